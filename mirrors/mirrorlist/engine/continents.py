"""ISO 3166-1 alpha-2 countries by continent (the codes GeoIP databases use), for a requested `country`."""

from __future__ import annotations

_BY_CONTINENT = {
    "AF": "DZ AO BJ BW BF BI CM CV CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU "
    "YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW",
    "AN": "AQ BV GS HM TF",
    "AS": "AF AM AZ BH BD BT IO BN KH CN CY GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN MM NP KP OM PK "
    "PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE CC CX",
    "EU": "AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG HU IS IE IM IT JE XK LV LI LT LU MT MD MC ME "
    "NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB VA",
    "NA": "AI AG AW BS BB BZ BM BQ VG CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA PR BL KN LC MF "
    "PM VC SX TT TC US VI UM",
    "OC": "AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF",
    "SA": "AR BO BR CL CO EC FK GF GY PY PE SR UY VE",
}

CONTINENTS = frozenset(_BY_CONTINENT)
COUNTRY_CONTINENT: dict[str, str] = {
    country: continent for continent, countries in _BY_CONTINENT.items() for country in countries.split()
}


def continent_of(country: str | None) -> str | None:
    """The continent code of a country code, or None when unknown."""
    return COUNTRY_CONTINENT.get(country) if country else None
