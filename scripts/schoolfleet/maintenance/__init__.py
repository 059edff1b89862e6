"""Maintenance windows of the school servers and the fleet's synchronisation status.

`window` decides whether a moment lies inside a school's maintenance window. It depends on the
standard library only, because the very same file is installed on every school server as the guard
that its systemd timers call (roles/school_sync/files/maintenance-window is a link to it): the
controller, the fleet runner and the servers cannot disagree. `school_calendar` builds the calendar
it reads, on the controller, from the packaged French public and school holidays.
"""
