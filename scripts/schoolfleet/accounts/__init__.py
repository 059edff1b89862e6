"""School accounts: rosters in, a plan of directory changes out, and the slips teachers hand out."""
