"""The convention register: the single source of truth for the fleet, its members and their bills.

    from schoolfleet.register import load_register, RegisterError
    register = load_register("inventories/demo/register")

Every script reads the register through `load_register`; nothing else parses its files.
"""

from schoolfleet.register.errors import Problem, RegisterError
from schoolfleet.register.loader import load_register, register_digest, register_files
from schoolfleet.register.model import (
    AddressPlan,
    Authority,
    Commune,
    Convention,
    Equipment,
    EquipmentKind,
    HostRange,
    Licence,
    Member,
    MemberKind,
    Register,
    School,
    SchoolKind,
    Server,
    ServerKind,
    SoftwarePack,
    SoftwarePackage,
    Source,
    Vlan,
    Zone,
)

__all__ = [
    "AddressPlan",
    "Authority",
    "Commune",
    "Convention",
    "Equipment",
    "EquipmentKind",
    "HostRange",
    "Licence",
    "Member",
    "MemberKind",
    "Problem",
    "Register",
    "RegisterError",
    "School",
    "SchoolKind",
    "Server",
    "ServerKind",
    "SoftwarePack",
    "SoftwarePackage",
    "Source",
    "Vlan",
    "Zone",
    "load_register",
    "register_digest",
    "register_files",
]
