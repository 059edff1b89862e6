import sys

from schoolfleet_agent.hwreport.cli import main

sys.exit(main())
