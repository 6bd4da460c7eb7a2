"""Which continent each ISO 3166-1 country is on: the one table the registry, the mirrorlist and the demo use.

Continent codes are the usual seven: AF, AN, AS, EU, NA, OC, SA. Countries that span two continents are
put where their mirror traffic usually goes (Russia, Turkey and the Caucasus as mirrors are commonly listed).
"""

from __future__ import annotations

CONTINENTS: dict[str, str] = {
    "AF": "Africa",
    "AN": "Antarctica",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "OC": "Oceania",
    "SA": "South America",
}

_BY_CONTINENT = {
    "AF": "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU "
    "MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW",
    "AN": "AQ BV GS HM TF",
    "AS": "AE AF AM AZ BD BH BN BT CC CN CX CY GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN "
    "MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW UZ VN YE",
    "EU": "AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC "
    "MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA",
    "NA": "AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR "
    "SV SX TC TT US VC VG VI",
    "OC": "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS",
    "SA": "AR BO BR CL CO EC FK GF GY PE PY SR UY VE",
}

# GeoIP databases also answer XK (Kosovo), a user-assigned code that ISO 3166 and django-countries lack.
GEOIP_ONLY_COUNTRIES = {"XK": "EU"}

COUNTRY_CONTINENT: dict[str, str] = {
    country: continent for continent, countries in _BY_CONTINENT.items() for country in countries.split()
} | GEOIP_ONLY_COUNTRIES


def continent_of(country: str) -> str:
    """The continent code of an ISO 3166-1 alpha-2 country code; KeyError for a code not in the table."""
    return COUNTRY_CONTINENT[str(country).upper()]
