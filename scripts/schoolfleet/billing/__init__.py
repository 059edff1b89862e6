"""Yearly billing of the members for the equipment they hold on 1 November, from the register.

The rules are in `rules` (pure functions over simple records), the bridge from the register in
`source`, the year-over-year comparison in `compare`, the CSV/XLSX/ODS exports in `exports`, and the
command in `__main__` (`python -m schoolfleet.billing YEAR`).
"""
