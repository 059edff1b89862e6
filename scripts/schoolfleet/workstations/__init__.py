"""Classroom workstations seen from the controller: the hardware reports against the register."""
