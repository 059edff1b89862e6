"""An access point of a school, as the register and the inventory describe it, checked.

`build_access_point` takes the plain data Ansible has (fleet_network, fleet_school, fleet_address,
the role's variables) and returns a frozen `AccessPoint` that says nothing of any vendor: which
SSIDs, for which population, bridged to which VLAN of the school's plan, authenticated against which
RADIUS server, on which radios and channels. A renderer (schoolfleet.wifi.renderers) turns it into
one family's configuration. Every problem raises `WifiError` naming the access point and the field,
before anything is rendered or pushed.

Secrets are not part of the model: an SSID says which secret it needs (`secret`), the role supplies
the value from Vault to the push task only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from schoolfleet.network.plan import PlanError, vlan_plan

ENTERPRISE = ("wpa2-enterprise", "wpa3-mixed-enterprise", "wpa3-enterprise")
PERSONAL = ("wpa2-psk", "wpa3-mixed-psk")
SECURITIES = ENTERPRISE + PERSONAL
POPULATIONS = ("pupils", "teachers", "guests", "devices")
BANDS = ("2g", "5g")

# Channels that need no radar detection (DFS): the radios come on every morning, and a DFS channel
# would keep a 5 GHz radio silent for a minute (ten on the weather-radar channels) each time.
CHANNELS = {"2g": (1, 6, 11), "5g": (36, 40, 44, 48)}
WIDTHS = {"2g": (20, 40), "5g": (20, 40, 80)}

# One SSID is at most 32 bytes; keep it printable and free of the quotes configuration files use.
_SSID_RE = re.compile(r"^[A-Za-z0-9 ._@+-]{1,32}$")
# Ids become parts of configuration section names (UCI allows [A-Za-z0-9_]).
_ID_RE = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_RADIO_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
_IFACE_RE = re.compile(r"^[a-z][a-z0-9_.@-]{0,14}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


class WifiError(ValueError):
    """A register or inventory entry that cannot become an access point's configuration."""

    def __init__(self, host: str, message: str) -> None:
        super().__init__(f"{host}: {message}")
        self.host = host


@dataclass(frozen=True)
class Vlan:
    name: str
    id: int
    cidr: str


@dataclass(frozen=True)
class Radio:
    name: str
    band: str
    channel: int
    width: int
    # dBm; None leaves the regulatory maximum (the country sets it).
    txpower: int | None


@dataclass(frozen=True)
class Ssid:
    id: str
    ssid: str
    population: str
    vlan: Vlan
    security: str
    radios: tuple[str, ...]
    hidden: bool
    # Clients of the SSID cannot talk to each other on the air (guests, pupils' tablets).
    isolate: bool
    # Name of the secret the push needs: "radius" for 802.1X, the key's name for a passphrase.
    secret: str

    @property
    def enterprise(self) -> bool:
        return self.security in ENTERPRISE


@dataclass(frozen=True)
class Radius:
    server: str
    auth_port: int
    acct_port: int | None


@dataclass(frozen=True)
class Management:
    vlan: Vlan
    address: str
    netmask: str
    gateway: str
    dns: tuple[str, ...]


@dataclass(frozen=True)
class AccessPoint:
    host: str
    school: str
    family: str
    model: str
    country: str
    uplink: str
    management: Management
    radios: tuple[Radio, ...]
    ssids: tuple[Ssid, ...]
    radius: Radius | None

    def vlans(self) -> list[Vlan]:
        """Every VLAN the access point carries on its uplink, management first."""
        seen = {self.management.vlan.id: self.management.vlan}
        for ssid in self.ssids:
            seen.setdefault(ssid.vlan.id, ssid.vlan)
        others = sorted((v for i, v in seen.items() if i != self.management.vlan.id), key=lambda v: v.id)
        return [seen[self.management.vlan.id], *others]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def access_point_from_dict(data: Mapping[str, Any]) -> AccessPoint:
    """The model back from `as_dict()` (what Ansible keeps between tasks)."""

    def vlan(d: Mapping[str, Any]) -> Vlan:
        return Vlan(str(d["name"]), int(d["id"]), str(d["cidr"]))

    mgmt = data["management"]
    radius = data.get("radius")
    return AccessPoint(
        host=str(data["host"]),
        school=str(data["school"]),
        family=str(data["family"]),
        model=str(data["model"]),
        country=str(data["country"]),
        uplink=str(data["uplink"]),
        management=Management(
            vlan(mgmt["vlan"]), str(mgmt["address"]), str(mgmt["netmask"]), str(mgmt["gateway"]),
            tuple(str(d) for d in mgmt["dns"]),
        ),
        radios=tuple(
            Radio(str(r["name"]), str(r["band"]), int(r["channel"]), int(r["width"]),
                  None if r.get("txpower") is None else int(r["txpower"]))
            for r in data["radios"]
        ),
        ssids=tuple(
            Ssid(str(s["id"]), str(s["ssid"]), str(s["population"]), vlan(s["vlan"]), str(s["security"]),
                 tuple(str(r) for r in s["radios"]), bool(s["hidden"]), bool(s["isolate"]), str(s["secret"]))
            for s in data["ssids"]
        ),
        radius=None if radius is None else Radius(
            str(radius["server"]), int(radius["auth_port"]),
            None if radius.get("acct_port") is None else int(radius["acct_port"]),
        ),
    )  # fmt: skip


def _int(host: str, value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or value is None:
        raise WifiError(host, f"{what} must be an integer, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise WifiError(host, f"{what} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise WifiError(host, f"{what} must be between {low} and {high}, got {number}")
    return number


def _ipv4(host: str, value: Any, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(str(value)))
    except ValueError:
        raise WifiError(host, f"{what} is not an IPv4 address: {value!r}") from None


def _bool(host: str, value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    raise WifiError(host, f"{what} must be true or false, got {value!r}")


def _radios(host: str, specs: Any, unit: int) -> tuple[Radio, ...]:
    if not isinstance(specs, Sequence) or isinstance(specs, str) or not specs:
        raise WifiError(host, "radios: at least one radio is needed (wifi_ap_radios or the model's table)")
    radios: list[Radio] = []
    for index, spec in enumerate(specs):
        where = f"radios[{index}]"
        if not isinstance(spec, Mapping):
            raise WifiError(host, f"{where}: expected a mapping with name and band, got {spec!r}")
        name = str(spec.get("name", ""))
        if not _RADIO_RE.match(name):
            raise WifiError(host, f"{where}.name {name!r} must be a radio name such as radio0")
        if any(r.name == name for r in radios):
            raise WifiError(host, f"{where}.name: radio {name!r} is listed twice")
        band = str(spec.get("band", ""))
        if band not in BANDS:
            raise WifiError(host, f"{where}.band {band!r} must be one of {', '.join(BANDS)}")
        width = _int(host, spec.get("width", 20), f"{where}.width", 20, 160)
        if width not in WIDTHS[band]:
            raise WifiError(
                host, f"{where}.width {width} MHz is not used on {band} (allowed: {WIDTHS[band]})"
            )
        channel_spec = spec.get("channel", "plan")
        if channel_spec == "plan":
            # Neighbouring access points of a school (consecutive units) get different channels.
            plan = CHANNELS[band] if width == 20 else CHANNELS[band][:: width // 20]
            channel = plan[(unit - 1) % len(plan)]
        else:
            channel = _int(host, channel_spec, f"{where}.channel", 1, 196)
            if channel not in CHANNELS[band] and not spec.get("allow_dfs", False):
                raise WifiError(
                    host,
                    f"{where}.channel {channel} is not one of the {band} channels without radar "
                    f"detection {CHANNELS[band]} (set allow_dfs: true to use it anyway)",
                )
        txpower = spec.get("txpower")
        radios.append(
            Radio(
                name,
                band,
                channel,
                width,
                None if txpower is None else _int(host, txpower, f"{where}.txpower", 1, 30),
            )
        )
    return tuple(radios)


def build_access_point(
    host: str,
    *,
    family: Any,
    families: Sequence[str],
    school: Any,
    network: Any,
    address: Any,
    wifi_option: Any,
    unit: Any,
    model: Any,
    uplink: Any,
    radios: Any,
    ssids: Any,
    radius_server: Any,
    radius_auth_port: Any = 1812,
    radius_acct_port: Any = 1813,
    management_vlan: str = "management",
    dns: Any = None,
    country: Any = "FR",
) -> AccessPoint:
    """The checked model of one access point (see the module's docstring)."""
    fam = str(family)
    if fam not in families:
        raise WifiError(
            host,
            f"family: unsupported access-point family {fam!r} for model {model!r}; supported families "
            f"are {', '.join(families)} (wifi_ap_family, from the register's device catalogue)",
        )
    if not isinstance(school, Mapping) or not school.get("uai"):
        raise WifiError(host, "fleet_school: the school (with its uai) is missing")
    uai = str(school["uai"])
    if not _bool(host, wifi_option, "wifi option"):
        raise WifiError(
            host,
            f"wifi option: school {uai} belongs to a member without the Wi-Fi option "
            "(options.wifi in the register): it must have no access point",
        )
    try:
        vlans = vlan_plan(host, network)
    except PlanError as error:
        raise WifiError(host, f"fleet_network: {str(error).removeprefix(host + ': ')}") from None

    def vlan_named(name: Any, where: str) -> Vlan:
        if str(name) not in vlans:
            raise WifiError(
                host,
                f"{where}: VLAN {name!r} is not in the plan of school {uai} "
                f"(fleet_network has: {', '.join(sorted(vlans))})",
            )
        entry = vlans[str(name)]
        return Vlan(entry["name"], entry["id"], entry["cidr"])

    mgmt_vlan = vlan_named(management_vlan, "management vlan")
    mgmt_net = ipaddress.IPv4Network(mgmt_vlan.cidr)
    mgmt_address = _ipv4(host, address, "fleet_address")
    gateway = vlans[mgmt_vlan.name]["gateway"]
    if ipaddress.IPv4Address(mgmt_address) not in mgmt_net or mgmt_address == gateway:
        raise WifiError(
            host, f"fleet_address {mgmt_address} is not a free host of the management VLAN {mgmt_net}"
        )
    unit_number = _int(host, unit, "unit (fleet_asset.unit)", 1, 99)
    uplink_name = str(uplink)
    if not _IFACE_RE.match(uplink_name):
        raise WifiError(host, f"uplink {uplink_name!r} is not an interface name")
    country_code = str(country)
    if not _COUNTRY_RE.match(country_code):
        raise WifiError(host, f"country {country_code!r} must be a two-letter ISO code such as FR")
    radio_list = _radios(host, radios, unit_number)

    if not isinstance(ssids, Sequence) or isinstance(ssids, str) or not ssids:
        raise WifiError(host, "ssids: at least one SSID is needed")
    ssid_list: list[Ssid] = []
    for index, spec in enumerate(ssids):
        where = f"ssids[{index}]"
        if not isinstance(spec, Mapping):
            raise WifiError(host, f"{where}: expected a mapping, got {spec!r}")
        ident = str(spec.get("id", ""))
        if not _ID_RE.match(ident):
            raise WifiError(host, f"{where}.id {ident!r} must be a short lowercase identifier")
        if any(s.id == ident for s in ssid_list):
            raise WifiError(host, f"{where}.id {ident!r} is used twice")
        name = str(spec.get("ssid", ""))
        if not _SSID_RE.match(name):
            raise WifiError(host, f"{where}.ssid {name!r} must be 1-32 letters, digits, spaces or . _ @ + -")
        if any(s.ssid == name for s in ssid_list):
            raise WifiError(host, f"{where}.ssid {name!r} is broadcast twice")
        population = str(spec.get("population", ""))
        if population not in POPULATIONS:
            raise WifiError(
                host, f"{where}.population {population!r} must be one of {', '.join(POPULATIONS)}"
            )
        vlan = vlan_named(spec.get("vlan"), f"{where}.vlan ({name})")
        if vlan.id == mgmt_vlan.id:
            raise WifiError(host, f"{where}.vlan: no SSID may bridge into the management VLAN")
        security = str(spec.get("security", ""))
        if security not in SECURITIES:
            raise WifiError(host, f"{where}.security {security!r} must be one of {', '.join(SECURITIES)}")
        if population in ("pupils", "teachers") and security not in ENTERPRISE:
            raise WifiError(
                host,
                f"{where}.security: {population} authenticate with their school account (802.1X), "
                f"not a shared passphrase ({security})",
            )
        if security in ENTERPRISE:
            secret = "radius"
        else:
            secret = str(spec.get("key", ""))
            if not _ID_RE.match(secret):
                raise WifiError(host, f"{where}.key: a passphrase SSID names its key (wifi_ap_psk_keys)")
        bands = spec.get("bands", list(BANDS))
        if not isinstance(bands, Sequence) or isinstance(bands, str) or not bands:
            raise WifiError(host, f"{where}.bands must be a list of {', '.join(BANDS)}")
        unknown = [b for b in bands if b not in BANDS]
        if unknown:
            raise WifiError(host, f"{where}.bands: unknown band {unknown[0]!r}")
        on = tuple(r.name for r in radio_list if r.band in bands)
        if not on:
            raise WifiError(host, f"{where}.bands: the access point has no radio on {', '.join(bands)}")
        ssid_list.append(
            Ssid(
                ident,
                name,
                population,
                vlan,
                security,
                on,
                _bool(host, spec.get("hidden", False), f"{where}.hidden"),
                _bool(host, spec.get("isolate", population != "teachers"), f"{where}.isolate"),
                secret,
            )
        )
    per_radio = max(sum(1 for s in ssid_list if r.name in s.radios) for r in radio_list)
    if per_radio > 4:
        # Each SSID beacons on its own: beyond four the beacons eat the airtime of a classroom.
        raise WifiError(host, f"ssids: {per_radio} SSIDs on one radio, at most 4")

    radius = None
    if any(s.enterprise for s in ssid_list):
        if not radius_server:
            raise WifiError(
                host,
                f"radius server: school {uai} has no school server address for 802.1X "
                "(wifi_ap_radius_server)",
            )
        radius = Radius(
            _ipv4(host, radius_server, "radius server"),
            _int(host, radius_auth_port, "radius auth port", 1, 65535),
            None
            if radius_acct_port is None
            else _int(host, radius_acct_port, "radius accounting port", 1, 65535),
        )
    dns_servers = tuple(_ipv4(host, d, "dns server") for d in (dns or []))
    return AccessPoint(
        host=host,
        school=uai,
        family=fam,
        model=str(model),
        country=country_code,
        uplink=uplink_name,
        management=Management(mgmt_vlan, mgmt_address, str(mgmt_net.netmask), str(gateway), dns_servers),
        radios=radio_list,
        ssids=tuple(ssid_list),
        radius=radius,
    )
