"""A fictional but realistic register, deterministic from its seed: the embedded demo and the benchmarks.

    python -m schoolfleet.register.generate OUT_DIR [--schools 120] [--seed 1] [--force]

About 2.35 schools per commune, 25 workstations per school, one server and one router per school,
a switch per 24 workstations, access points for members with the Wi-Fi option, a few specific
workstations and servers, printers and interactive projectors; a SIVOS or two, one member that left.
Most workstations are delivered: they carry their MAC (the maker's prefix for the model) and a host
number in the pedagogy VLAN, given in order within each school.
It writes YAML text itself (no dumper) so the files look like a sysadmin's: block style, one member per
file, stable order.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import netaddr

from schoolfleet.register.uai import make_uai

DEMO_TARIFFS = Path(__file__).resolve().parents[3] / "inventories" / "demo" / "register" / "tariffs"

# A register of up to about 1,640 schools draws its INSEE codes from one range; larger ones spread
# over more départements of the region, and take numbered names once the random draws run dry.
_CODES_PER_DEPARTMENT = 699
_MORE_DEPARTMENTS = ("077", "078", "095", "094", "093", "092")
_RANDOM_PASSES = 12
# Name parts for French-style communes.
_ROOTS = (
    "Arpenay", "Bellecombe", "Bois-Colombe", "Boissy", "Bréval", "Champcueil", "Chantereine", "Chaumont",
    "Courdimanche", "Crosne", "Écharcon", "Étréchy", "Fontenay", "Gometz", "Janvry", "Juvisy", "Lardy",
    "Leuville", "Linas", "Marolles", "Mennecy", "Montlhéry", "Morangis", "Morsang", "Nozay", "Ollainville",
    "Orsay", "Palaiseau", "Puiselet", "Richarville", "Saclas", "Saulx", "Soisy", "Torfou", "Vauhallan",
    "Verrières", "Vigneux", "Villabé", "Villebon", "Villejust", "Viry", "Wissous", "Ablon", "Bondoufle",
    "Brétigny", "Cerny", "Chilly", "Dourdan", "Égly", "Guibeville", "Itteville", "Lisses", "Mauchamps",
    "Moigny", "Ormoy", "Roinville", "Sermaise", "Tigery", "Varennes", "Vert", "Yerres",
)  # fmt: skip
_PREFIXES = ("",) * 9 + ("Saint-",)
_SUFFIXES = (
    "", "", "", "-sur-Orge", "-sur-Yvette", "-sur-Seine", "-le-Grand", "-le-Petit", "-en-Hurepoix",
    "-la-Forêt", "-le-Vicomte", "-les-Bois", "-la-Rivière", "-sur-Juine", "-le-Château",
)  # fmt: skip
_PEOPLE = (
    "Jules Ferry", "Jean Moulin", "Victor Hugo", "Louise Michel", "Marie Curie", "Jean Jaurès",
    "Paul Langevin", "Jacques Prévert", "Simone Veil", "Pierre Brossolette", "Anne Frank", "Jean Zay",
    "George Sand", "Albert Camus", "Marcel Pagnol", "Jean de La Fontaine", "Condorcet", "Pasteur",
    "Lucie Aubrac", "Paul Éluard", "Colette", "Charles Perrault", "Olympe de Gouges", "Gisèle Halimi",
)  # fmt: skip
_PLACES = (
    "Les Tilleuls", "Les Coquelicots", "Le Petit Prince", "Les Lilas", "Le Centre", "Les Sablons",
    "La Fontaine", "Les Acacias", "Le Bourg", "Les Peupliers", "La Roseraie", "Les Marronniers",
)  # fmt: skip
_KIND_LABELS = {
    "maternelle": "École maternelle",
    "elementaire": "École élémentaire",
    "primaire": "École primaire",
}
_MODELS = {
    "school_server": ("Dell PowerEdge T150", "HPE ProLiant ML30 Gen10"),
    "router": ("Cisco ISR 1111-8P", "Stormshield SN210"),
    "switch": ("HPE Aruba 2530-24G-PoE+", "HPE Aruba 2530-48G"),
    # The authority buys the AP-303 only (the catalogue says why not the AP-505); two entries keep the
    # random draws, hence the rest of the demo, as they were when both were bought.
    "wifi_ap": ("Aruba AP-303", "Aruba AP-303"),
    "workstation": ("Dell OptiPlex 3000 Micro", "Lenovo ThinkCentre M70q", "HP ProDesk 400 G7"),
    "specific_workstation": ("Dell Precision 3660", "Apple iMac 24"),
    "specific_server": ("Synology RS822+", "Dell PowerEdge T40"),
    "inkjet_printer": ("Epson EcoTank ET-5850", "Brother MFC-J5955DW"),
    "interactive_projector": ("Epson EB-725Wi", "Epson EB-1485Fi"),
}
# The makers' MAC prefixes (OUI) of the workstation models: the reports' MACs look like real ones.
_OUIS = {
    "Dell OptiPlex 3000 Micro": "a4:bb:6d",
    "Dell Precision 3660": "b0:7b:25",
    "Lenovo ThinkCentre M70q": "98:fa:9b",
    "HP ProDesk 400 G7": "30:24:a9",
    "Apple iMac 24": "f0:18:98",
}
# Share of the workstations delivered (with a MAC and a host number); the others are billing rows.
_DELIVERED = 0.85
# Host numbers kept for workstations in every pedagogy VLAN, below its DHCP pool.
_WORKSTATION_HOSTS = (10, 199)
# The software catalogue: Debian 12 packages per pack, chosen with the ICT advisers (issue 20), and
# checked against the mirror's index by `python -m schoolfleet.catalogue`.
_PACKS: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    "base": (
        "Bureautique, navigateur, lecteur PDF, outils de lecture et de calcul",
        ("libreoffice-writer", "libreoffice-calc", "libreoffice-impress", "libreoffice-gtk3",
         "libreoffice-l10n-fr", "hunspell-fr", "mythes-fr", "firefox-esr", "firefox-esr-l10n-fr", "evince",
         "ristretto", "vlc", "fonts-dejavu"),
        {"firefox_homepage": "https://www.ac-versailles.fr/"},
    ),
    "maternelle": (
        "Logiciels de découverte pour le cycle 1",
        ("gcompris-qt", "gcompris-qt-data", "tuxpaint", "tuxpaint-stamps-default", "tuxpaint-config"),
        {},
    ),
    "elementaire": (
        "Logiciels pédagogiques des cycles 2 et 3",
        ("tuxmath", "tuxtype", "stellarium", "geogebra", "kalzium", "gcompris-qt", "gcompris-qt-data",
         "marble"),
        {},
    ),
    "inclusion": (
        "Outils d'accessibilité (lecteur d'écran, synthèse vocale, clavier à l'écran, police adaptée)",
        ("orca", "espeak-ng", "speech-dispatcher", "speech-dispatcher-espeak-ng", "onboard",
         "fonts-opendyslexic"),
        {},
    ),
    "direction": (
        "Outils de direction d'école",
        ("thunderbird", "thunderbird-l10n-fr", "libreoffice-base", "keepassxc", "simple-scan", "pdfarranger"),
        {},
    ),
}  # fmt: skip


def _catalogue_lines() -> list[str]:
    lines = ["software_packs:"]
    for name, (description, packages, settings) in _PACKS.items():
        lines += [f"  {name}:", f"    description: {text(description)}", "    packages:"]
        lines += [f"      - {package}" for package in packages]
        if settings:
            lines.append("    settings:")
            lines += [f"      {key}: {text(value)}" for key, value in settings.items()]
    return lines


_LICENCES = (
    "BCDI bibliothèque",
    "Lalilo Premium",
    "Kidimath",
    "Dys-Vocal Pro",
    "Tuxpaint Studio",
    "Géoplan École",
)
_SAFE_TEXT = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ0-9 '’.+-]*\Z")


def text(value: str) -> str:
    """Plain when YAML reads it back as the same text, double-quoted otherwise."""
    if _SAFE_TEXT.match(value) and not value.endswith(" ") and value not in ("true", "false", "null"):
        return value
    return json.dumps(value, ensure_ascii=False)


def slug(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@dataclass
class _School:
    lines: list[str]
    workstations: int


@dataclass
class _Member:
    file: str
    header: list[str]
    schools: list[_School] = field(default_factory=list)


class Generator:
    def __init__(self, schools: int, seed: int) -> None:
        self.rng = random.Random(seed)
        # MACs come from their own stream: the rest of the register stays what the seed always gave.
        self.mac_rng = random.Random(f"mac-{seed}")
        # Schools arriving after their member's convention: their own stream too.
        self.arrival_rng = random.Random(f"arrival-{seed}")
        self.macs: set[str] = set()
        self.schools = schools
        self.tag = 0
        self.block = 0
        self.uai_numbers: set[int] = set()
        self.wifi_aps = 0

    def next_tag(self) -> str:
        self.tag += 1
        return f"SF-{self.tag:06d}"

    def next_block(self) -> int:
        # Now and then a block stays unused: a school closed and its block is never given again.
        self.block += 2 if self.rng.random() < 0.03 else 1
        return self.block

    def serial(self) -> str:
        return "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))

    def day(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randrange(max(1, (end - start).days)))

    def commune_names(self, count: int) -> list[str]:
        """Distinct names; every root once before any root comes back with another suffix.

        Random draws find fewer new names as they run out (about 1,600 in all); past a few passes the
        remaining combinations come in order, then numbered ones, so any count can be reached.
        """
        names: list[str] = []
        taken: set[str] = set()
        for _ in range(_RANDOM_PASSES):
            if len(names) >= count:
                return names
            for root in self.rng.sample(_ROOTS, len(_ROOTS)):
                prefix = self.rng.choice(_PREFIXES)
                name = f"{prefix}{root}{self.rng.choice(_SUFFIXES)}"
                if name not in taken and len(names) < count:
                    names.append(name)
                    taken.add(name)
        combinations = [
            f"{prefix}{root}{suffix}"
            for prefix in ("", "Saint-")
            for suffix in dict.fromkeys(_SUFFIXES)
            for root in _ROOTS
        ]
        number = 1
        while len(names) < count:
            for base in combinations:
                name = base if number == 1 else f"{base} {number}"
                if name not in taken and len(names) < count:
                    names.append(name)
                    taken.add(name)
            number += 1
        return names

    def uai(self, department: str) -> str:
        while True:
            number = int(f"{department}{self.rng.randrange(1000, 9999)}")
            if number not in self.uai_numbers:
                self.uai_numbers.add(number)
                return make_uai(number)

    def mac(self, model: str) -> str:
        while True:
            nic = ":".join(f"{self.mac_rng.randrange(256):02x}" for _ in range(3))
            mac = f"{_OUIS[model]}:{nic}"
            if mac not in self.macs:
                self.macs.add(mac)
                return mac

    def device(
        self,
        kind: str,
        installed: dt.date,
        retired: dt.date | None = None,
        unit: int | None = None,
        hosts: list[int] | None = None,
    ) -> list[str]:
        """A device's lines; a workstation given `hosts` (its school's next host numbers) may be delivered."""
        lines = [f"      - tag: {self.next_tag()}", f"        kind: {kind}"]
        if unit is not None:
            lines.append(f"        unit: {unit}")
        model = self.rng.choice(_MODELS[kind])
        lines += [f"        model: {text(model)}", f'        serial: "{self.serial()}"']
        if hosts and self.mac_rng.random() < _DELIVERED:
            lines += [f'        mac: "{self.mac(model)}"', f"        host: {hosts.pop(0)}"]
        lines.append(f"        installed: {installed.isoformat()}")
        if retired is not None:
            lines.append(f"        retired: {retired.isoformat()}")
        return lines

    def school(self, commune: str, department: str, joined: dt.date, wifi: bool, left: dt.date | None,
               kind: str, in_sivos: bool) -> _School:  # fmt: skip
        rng = self.rng
        uai = self.uai(department)
        pupils = {"maternelle": rng.randint(45, 190), "elementaire": rng.randint(70, 330)}.get(
            kind, rng.randint(25, 260) if kind == "primaire" else rng.randint(12, 60)
        )
        teachers = max(2, round(pupils / (24 if kind in ("maternelle", "elementaire", "primaire") else 8)))
        if kind in _KIND_LABELS:
            name = f"{_KIND_LABELS[kind]} {rng.choice(_PEOPLE + _PLACES)}"
        elif kind == "ime":
            name = f"Unité d'enseignement de l'IME {rng.choice(_PLACES)}"
        else:
            name = "École de l'hôpital de jour"
        zone = "B" if department == "045" else "C"
        lines = [
            f"  - uai: {uai}",
            f"    name: {text(name)}",
            f"    kind: {kind}",
        ]
        if in_sivos:
            lines.append(f'    commune: "{commune}"')
        lines += [
            f"    zone: {zone}",
            f"    pupils: {pupils}",
            f"    teachers: {teachers}",
            f"    block: {self.next_block()}",
        ]
        packs = ["base", "maternelle" if kind == "maternelle" else "elementaire"]
        if kind in ("ime", "hospital") or rng.random() < 0.1:
            packs.append("inclusion")
        if pupils > 150:
            packs.append("direction")
        lines += ["    software:", f"      packs: [{', '.join(packs)}]"]
        if left is None and rng.random() < 0.2:
            start = self.day(max(joined, dt.date(2020, 9, 1)), dt.date(2026, 9, 1))
            lines += [
                "      licences:",
                f"        - product: {text(rng.choice(_LICENCES))}",
                f"          seats: {rng.randint(5, 30)}",
                f"          start: {start.isoformat()}",
            ]
            if rng.random() < 0.5:
                lines.append(
                    f"          end: {(start + dt.timedelta(days=365 * rng.randint(1, 3) - 1)).isoformat()}"
                )
        lines.append("    equipment:")
        first = max(joined, dt.date(2014, 8, 25))
        # A member that left had its equipment until the day it left.
        recent = dt.date(2026, 9, 1) if left is None else left - dt.timedelta(days=1)

        hosts = list(range(_WORKSTATION_HOSTS[0], _WORKSTATION_HOSTS[1] + 1))

        def add(kind: str, unit: int | None = None, installed: dt.date | None = None) -> None:
            day = installed or self.day(first, recent)
            workstation = kind in ("workstation", "specific_workstation")
            lines.extend(self.device(kind, day, left, unit, hosts if workstation else None))

        # The server replaced once for older members: the old one stays in the register, retired.
        if joined < dt.date(2018, 1, 1):
            swap = self.day(dt.date(2020, 7, 1), dt.date(2022, 8, 31))
            lines.extend(self.device("school_server", first, swap))
            add("school_server", installed=swap)
        else:
            add("school_server", installed=first)
        add("router", installed=first)
        divisor = 9 if kind == "maternelle" else 5
        workstations = max(4, pupils // divisor + rng.randint(-3, 3))
        for unit in range(1, 2 + workstations // 24):
            add("switch", unit)
        if wifi:
            for unit in range(1, 2 + pupils // 100):
                add(
                    "wifi_ap", unit, installed=self.day(min(max(joined, dt.date(2021, 1, 1)), recent), recent)
                )
                self.wifi_aps += 1
        for _ in range(workstations):
            add("workstation")
        if kind in ("ime", "hospital") or rng.random() < 0.04:
            add("specific_workstation")
        if rng.random() < 0.025:
            add("specific_server")
        for _ in range(1 + teachers // 6):
            add("inkjet_printer")
        projectors = rng.randint(0, 1) if kind == "maternelle" else teachers // 2
        for _ in range(projectors):
            add("interactive_projector")
        return _School(lines, workstations)

    def arrive(self, school: _School) -> _School:
        """The school joins its member later than the convention: nothing of it is installed before.

        Arrivals fall before any server swap (from mid-2020) or licence (from September 2020), so no
        device of the school is retired before it arrives and only installation dates move.
        """
        arrival = dt.date(2015 + self.arrival_rng.randrange(5), 9, 1)
        lines: list[str] = []
        for line in school.lines:
            key, _, value = line.partition("installed: ")
            if value and dt.date.fromisoformat(value) < arrival:
                line = f"{key}installed: {arrival.isoformat()}"
            lines.append(line)
            if line.startswith("    block: "):
                lines.append(f"    joined: {arrival.isoformat()}")
        return _School(lines, school.workstations)

    def members(self) -> list[_Member]:
        rng = self.rng
        commune_count = max(3, round(self.schools / 2.35))
        names = self.commune_names(commune_count)
        # A border strip of the agglomeration lies in the next département (another holiday zone).
        departments = [
            "045" if index >= commune_count - max(1, commune_count // 9) else "091"
            for index in range(commune_count)
        ]
        if commune_count < _CODES_PER_DEPARTMENT:
            codes = rng.sample(range(1, _CODES_PER_DEPARTMENT + 1), commune_count)
        else:
            departments, codes = self._spread(departments)
        insee = [f"{dep[1:]}{code:03d}" for dep, code in zip(departments, codes, strict=True)]
        # Schools per commune: the central town has many, villages one.
        weights = [
            8.0 if index == 0 else rng.choice((1.0, 1.0, 1.5, 2.0, 3.0)) for index in range(commune_count)
        ]
        counts = [1] * commune_count
        for _ in range(self.schools - commune_count):
            counts[rng.choices(range(commune_count), weights)[0]] += 1
        sivos_count = max(1, commune_count // 25)
        # SIVOS gather small villages: two or three communes each, taken from the end of the list.
        sivos_groups: list[list[int]] = []
        cursor = commune_count - 1 - max(1, commune_count // 9)
        for number in range(sivos_count):
            size = 3 if number % 2 == 0 else 2
            sivos_groups.append(list(range(cursor - size + 1, cursor + 1)))
            cursor -= size
        in_sivos = {index for group in sivos_groups for index in group}
        standalone = [index for index in range(commune_count) if index not in in_sivos]
        leaver = standalone[len(standalone) // 2]
        wifi_members = set(rng.sample(standalone[1:], max(1, len(standalone) // 6)))

        members: list[_Member] = []
        reference = 0
        for position, index in enumerate(standalone):
            reference += 1
            joined = dt.date(2012 + position % 12, 9, 1) if position else dt.date(2012, 1, 1)
            left = dt.date(2024, 8, 31) if index == leaver else None
            wifi = index in wifi_members
            header = [
                f"# Convention with the commune of {names[index]}.",
                "commune:",
                f'  insee: "{insee[index]}"',
                f"  name: {text(names[index])}",
                "convention:",
                f"  reference: CONV-{joined.year}-{reference:03d}",
                f"  joined: {joined.isoformat()}",
            ]
            if left is not None:
                header.append(f"  left: {left.isoformat()}")
            # The option dates from the 2021 amendment (or the later convention): the access points too.
            recent = dt.date(2026, 9, 1) if left is None else left - dt.timedelta(days=1)
            since = min(max(joined, dt.date(2021, 1, 1)), recent)
            header += (
                ["options:", "  wifi:", f"    - since: {since.isoformat()}"]
                if wifi
                else [
                    "options:",
                    "  wifi: false",
                ]
            )
            member = _Member(f"{insee[index]}-{slug(names[index])}.yml", header)
            for number in range(counts[index]):
                kind = self._kind(number, counts[index])
                school = self.school(
                    insee[index], departments[index], joined, wifi, left, kind, in_sivos=False
                )
                if number and joined < dt.date(2015, 9, 1) and self.arrival_rng.random() < 0.15:
                    school = self.arrive(school)
                member.schools.append(school)
            members.append(member)
        for number, group in enumerate(sivos_groups):
            reference += 1
            joined = dt.date(2015 + number, 9, 1)
            code = slug(f"{names[group[0]]}-{names[group[1]]}")[:40].strip("-")
            title = f"SIVOS de {names[group[0]]} et {names[group[1]]}" if len(group) == 2 else (
                f"SIVOS de {names[group[0]]}, {names[group[1]]} et {names[group[2]]}"
            )  # fmt: skip
            header = [
                "# Convention with the SIVOS below, which holds the schools of its communes.",
                "sivos:",
                f"  code: {code}",
                f"  name: {text(title)}",
                "  communes:",
            ]
            for index in group:
                header += [f'    - insee: "{insee[index]}"', f"      name: {text(names[index])}"]
            header += [
                "convention:",
                f"  reference: CONV-{joined.year}-{reference:03d}",
                f"  joined: {joined.isoformat()}",
                "options:",
                "  wifi: false",
            ]
            member = _Member(f"sivos-{code}.yml", header)
            for index in group:
                for school_number in range(counts[index]):
                    kind = "maternelle" if school_number % 2 == 0 else "elementaire"
                    member.schools.append(
                        self.school(
                            insee[index], departments[index], joined, False, None, kind, in_sivos=True
                        )
                    )
            members.append(member)
        return members

    def _spread(self, departments: list[str]) -> tuple[list[str], list[int]]:
        """Past one département's codes, the communes spill into the region's other départements."""
        spread: list[str] = []
        seen: dict[str, int] = {}
        for department in departments:
            position = seen.get(department, 0)
            seen[department] = position + 1
            extra = position // _CODES_PER_DEPARTMENT
            if extra and department == "091":
                department = _MORE_DEPARTMENTS[(extra - 1) % len(_MORE_DEPARTMENTS)]
            spread.append(department)
        counts = {department: spread.count(department) for department in dict.fromkeys(spread)}
        if max(counts.values()) > 999:
            raise ValueError(f"too many communes for the generator's départements: {counts}")
        drawn = {department: self.rng.sample(range(1, 1000), count) for department, count in counts.items()}
        return spread, [drawn[department].pop() for department in spread]

    def _kind(self, number: int, count: int) -> str:
        if count > 4 and number == count - 1:
            return "ime" if self.rng.random() < 0.5 else "hospital"
        if count == 1:
            return "primaire"
        return ("maternelle", "elementaire", "primaire")[number % 3 if count > 2 else number]

    def authority(self) -> list[str]:
        blocks_needed = self.block + 2
        supernet = netaddr.IPNetwork("10.128.0.0/12" if blocks_needed < 1023 else "10.0.0.0/8")
        datacenter = netaddr.IPNetwork(f"{netaddr.IPAddress(int(supernet.last) - 1023)}/22")
        base = int(datacenter.first)
        lines = [
            "# The authority's own infrastructure and the address plan of every school.",
            "authority:",
            "  name: Communauté d'agglomération du Val d'Orge et de la Juine (fictional)",
            "addressing:",
            "  # One /22 per school: block N is the Nth /22 of the supernet, stored with each school.",
            f"  supernet: {supernet}",
            "  school_prefix: 22",
            "  # The datacenter takes the supernet's last block: no school may be given it.",
            f"  datacenter: {datacenter}",
            "  vlans:",
            "    pedagogy: {id: 10, offset: 0, prefix: 24, dhcp_from: 200}",
            "    wifi: {id: 30, offset: 256, prefix: 24, dhcp_from: 32}",
            "    administration: {id: 20, offset: 512, prefix: 25, dhcp_from: 16}",
            "    management: {id: 99, offset: 768, prefix: 26}",
            "  # Host numbers in each school's management VLAN.",
            "  devices:",
            "    router: 1",
            "    school_server: 2",
            "    switch: 11-30",
            "    wifi_ap: 31-60",
            "  # Host numbers kept for registered workstations in each school's pedagogy VLAN, below its",
            "  # DHCP pool (unknown machines): a workstation keeps its number for good.",
            f"  workstations: {_WORKSTATION_HOSTS[0]}-{_WORKSTATION_HOSTS[1]}",
            "# The software catalogue: what a school's workstations get for each pack its `software.packs`",
            "# names (Debian 12 packages), and the settings that go with it.",
            *_catalogue_lines(),
            "servers:",
        ]
        servers = (("central", "central_server", 10, "Dell PowerEdge R650"),
                   ("backup1", "backup_server", 21, "Dell PowerEdge R550"),
                   ("backup2", "backup_server", 22, "HPE ProLiant DL380 Gen10"))  # fmt: skip
        for hostname, kind, host, model in servers:
            lines += [
                f"  - hostname: {hostname}",
                f"    kind: {kind}",
                f"    address: {netaddr.IPAddress(base + host)}",
                f"    tag: {self.next_tag()}",
                f"    model: {model}",
                f'    serial: "{self.serial()}"',
                "    installed: 2019-06-17",
            ]
        return lines + _DEVICE_CATALOGUE.splitlines()


# The device catalogue of the demo: the network models the schools hold.
_DEVICE_CATALOGUE = """\
# The device catalogue: every model of router, switch and access point a school may hold, the
# family that configures it (the roles never guess it from the name), its ports and radios. A
# network device of a model not listed here is refused when it is onboarded.
#   ports: access = front-panel ports numbered 1..access, uplink = the port or interface towards
#   the upstream device, poe = ports 1..poe that give power.
devices:
  Cisco ISR 1111-8P:
    kind: router
    family: ios
    ports: {access: 8, uplink: GigabitEthernet0/0/1, poe: 0}
  Stormshield SN210:
    kind: router
    family: sns
    ports: {access: 6, uplink: in, poe: 0}
  HPE Aruba 2530-24G-PoE+:
    kind: switch
    family: procurve
    ports: {access: 24, uplink: 24, poe: 24}
  HPE Aruba 2530-48G:
    kind: switch
    family: procurve
    ports: {access: 48, uplink: 48, poe: 0}
  Aruba AP-303:
    kind: wifi_ap
    family: openwrt
    ports: {access: 0, uplink: lan, poe: 0}
    radios:
      - {name: radio0, band: 2g}
      - {name: radio1, band: 5g}
  Aruba AP-505:
    kind: wifi_ap
    refused: >-
      not bought: it runs Aruba Instant or ArubaOS only (no OpenWrt build exists for it), whose
      configuration belongs to the cluster's virtual controller, not to each access point as the
      fleet renders it; the AP-303 (OpenWrt) is the authority's access point
"""


def generate(out: Path, schools: int, seed: int) -> dict[str, int]:
    """Writes a register into `out` (which must not exist) and returns a few counts."""
    generator = Generator(schools, seed)
    members = generator.members()
    (out / "members").mkdir(parents=True)
    # The demo's grids, so that a generated register bills as it is.
    shutil.copytree(DEMO_TARIFFS, out / "tariffs")
    (out / "authority.yml").write_text("---\n" + "\n".join(generator.authority()) + "\n", encoding="utf-8")
    workstations = 0
    for member in members:
        lines = ["---", *member.header, "schools:"]
        for school in member.schools:
            lines.extend(school.lines)
            workstations += school.workstations
        (out / "members" / member.file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "members": len(members),
        "schools": sum(len(member.schools) for member in members),
        "workstations": workstations,
        "wifi_aps": generator.wifi_aps,
        "delivered workstations": len(generator.macs),
        "devices": generator.tag,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="generate", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--schools", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="replace the members and authority of OUT")
    args = parser.parse_args(argv)
    if args.force:
        shutil.rmtree(args.out / "members", ignore_errors=True)
        (args.out / "authority.yml").unlink(missing_ok=True)
        tmp = args.out.with_name(args.out.name + ".new")
        shutil.rmtree(tmp, ignore_errors=True)
        counts = generate(tmp, args.schools, args.seed)
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.move(tmp / "members", args.out / "members")
        shutil.move(tmp / "authority.yml", args.out / "authority.yml")
        shutil.rmtree(tmp)
    else:
        counts = generate(args.out, args.schools, args.seed)
    print(", ".join(f"{value} {name}" for name, value in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
