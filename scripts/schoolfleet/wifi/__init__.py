"""Wi-Fi in the schools: the access points' intended configuration and the legal radio schedule.

- `model`: an access point as the register and the inventory describe it (SSIDs, populations and
  their VLANs, the school server's RADIUS, radios and channels), checked, independent of any vendor.
- `renderers`: one module per access-point family turning a model into that family's configuration
  (`openwrt`: UCI files pushed over SSH); `uci`: read, write and compare UCI configuration.
- `schedule` and the command line (`python -m schoolfleet.wifi`): the radios are on only during
  class time (loi n° 2015-136, article 7), a teacher may switch them on for a limited time, and every
  switch is logged per school. Those two modules use the standard library only: they run on the
  school servers, beside the maintenance window they share the calendar with.
"""
