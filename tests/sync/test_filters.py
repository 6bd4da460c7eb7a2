"""The filter engine shared by upstream filters and collections."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.filters import FilterSpec


@dataclass(frozen=True)
class F:
    filename: str
    version: str = ""
    package_type: str = "bdist_wheel"
    size: int | None = 100
    requires_python: str = ""
    yanked: bool = False


def wheel(name: str, version: str, tag: str = "py3-none-any", **kw) -> F:
    return F(f"{name}-{version}-{tag}.whl", version, "bdist_wheel", **kw)


def sdist(name: str, version: str, **kw) -> F:
    return F(f"{name}-{version}.tar.gz", version, "sdist", **kw)


def names(files) -> list[str]:
    return [f.filename for f in files]


# -- construction and validation --------------------------------------------------------------


def test_empty_spec_keeps_everything():
    spec = FilterSpec.from_dict({})
    assert spec.is_empty()
    files = [wheel("a", "1.0"), sdist("a", "1.0"), wheel("a", "2.0rc1")]
    assert spec.select_files(files) == files
    assert spec.project_allowed("anything")
    assert FilterSpec.from_dict(None).is_empty()


def test_from_dict_normalizes_and_round_trips():
    spec = FilterSpec.from_dict(
        {
            "include_projects": ["Django", "Foo_Bar.*", "Django"],
            "platform_tags": ["Manylinux*_X86_64", "any"],
            "python_versions": ["3.11", "03.012"],
            "latest_versions": 2,
        }
    )
    assert spec.include_projects == ("django", "foo-bar-*")
    assert spec.platform_tags == ("manylinux*_x86_64", "any")
    assert spec.python_versions == ("3.11", "3.12")
    assert FilterSpec.from_dict(spec.to_dict()) == spec
    assert not spec.is_empty()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"include_project": ["a"]}, "unknown filter key"),
        ({"include_projects": "django"}, "must be a list"),
        ({"include_projects": [""]}, "non-empty"),
        ({"include_projects": ["a b"]}, "not a name or glob"),
        ({"exclude_projects": ["foo[ab"]}, "unclosed"),
        ({"exclude_projects": ["foo]"]}, "without"),
        ({"platform_tags": [3]}, "non-empty string"),
        ({"package_types": ["wheel"]}, "package_types"),
        ({"python_versions": ["3"]}, "MAJOR.MINOR"),
        ({"python_versions": ["3.11.2"]}, "MAJOR.MINOR"),
        ({"python_versions": ["three"]}, "MAJOR.MINOR"),
        ({"include_prereleases": "no"}, "true or false"),
        ({"latest_versions": 0}, "positive"),
        ({"latest_versions": True}, "positive"),
        ({"max_file_size": -1}, "positive"),
        ({"max_file_size": "10MB"}, "positive"),
    ],
)
def test_from_dict_rejects_bad_input_clearly(data, message):
    with pytest.raises(ValueError, match=message):
        FilterSpec.from_dict(data)


def test_from_dict_rejects_non_objects():
    with pytest.raises(ValueError, match="JSON object"):
        FilterSpec.from_dict(["a"])  # type: ignore[arg-type]


# -- projects ---------------------------------------------------------------------------------


def test_project_include_and_exclude_globs():
    spec = FilterSpec.from_dict({"include_projects": ["django*", "requests"], "exclude_projects": ["django-debug-*"]})
    assert spec.project_allowed("django")
    assert spec.project_allowed("django-rest-framework")
    assert spec.project_allowed("requests")
    assert not spec.project_allowed("requests-toolbelt")
    assert not spec.project_allowed("django-debug-toolbar")  # exclude wins
    assert not spec.project_allowed("flask")


# -- files ------------------------------------------------------------------------------------


def test_package_types_and_size():
    files = [wheel("a", "1.0", size=10), sdist("a", "1.0", size=1000), wheel("a", "1.1", size=None)]
    assert names(FilterSpec(package_types=("sdist",)).select_files(files)) == ["a-1.0.tar.gz"]
    # Unknown size passes.
    assert names(FilterSpec(max_file_size=100).select_files(files)) == [
        "a-1.0-py3-none-any.whl",
        "a-1.1-py3-none-any.whl",
    ]


def test_platform_tags_on_wheels_sdists_and_eggs():
    files = [
        wheel("np", "1.0", "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"),
        wheel("np", "1.0", "cp311-cp311-manylinux_2_17_aarch64"),
        wheel("np", "1.0", "cp311-cp311-win_amd64"),
        wheel("np", "1.0", "py3-none-any"),
        sdist("np", "1.0"),
        F("np-1.0-py3.8-linux-x86_64.egg", "1.0", "bdist_egg"),
        F("np-1.0-py3.8.egg", "1.0", "bdist_egg"),
        F("np-1.0.win-amd64.exe", "1.0", "other"),
    ]
    spec = FilterSpec.from_dict({"platform_tags": ["manylinux*_x86_64", "any"]})
    assert names(spec.select_files(files)) == [
        "np-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "np-1.0-py3-none-any.whl",
        "np-1.0.tar.gz",  # sdists have no platform: they pass
        "np-1.0-py3.8.egg",  # an egg without platform is "any"
    ]
    linux = FilterSpec.from_dict({"platform_tags": ["linux_x86_64"]})
    assert names(linux.select_files(files)) == ["np-1.0.tar.gz", "np-1.0-py3.8-linux-x86_64.egg"]


def test_python_versions_use_tags_and_requires_python():
    files = [
        wheel("p", "1.0", "cp311-cp311-manylinux_2_17_x86_64"),
        wheel("p", "1.0", "cp312-cp312-manylinux_2_17_x86_64"),
        wheel("p", "1.0", "cp38-abi3-manylinux_2_17_x86_64"),
        wheel("p", "1.0", "py2.py3-none-any"),
        wheel("p", "0.9", "py2-none-any"),
        wheel("q", "1.0", "py3-none-any", requires_python=">=3.12"),
        wheel("r", "1.0", "py3-none-any", requires_python=">=3.11.4"),  # some 3.11 fits
        wheel("s", "1.0", "py3-none-any", requires_python="!=3.11.*"),
        wheel("t", "1.0", "py3-none-any", requires_python="not a specifier"),
        sdist("u", "1.0", requires_python="<3"),
        sdist("v", "1.0"),
        F("w-1.0-py3.11.egg", "1.0", "bdist_egg"),
        F("w-1.0-py3.10.egg", "1.0", "bdist_egg"),
    ]
    spec = FilterSpec.from_dict({"python_versions": ["3.11"]})
    assert names(spec.select_files(files)) == [
        "p-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "p-1.0-cp38-abi3-manylinux_2_17_x86_64.whl",
        "p-1.0-py2.py3-none-any.whl",
        "r-1.0-py3-none-any.whl",
        "t-1.0-py3-none-any.whl",
        "v-1.0.tar.gz",
        "w-1.0-py3.11.egg",
    ]
    # abi3 does not go backwards.
    assert names(FilterSpec(python_versions=("3.7",)).select_files(files[2:3])) == []


def test_prereleases_and_latest_versions():
    files = [
        wheel("a", "1.0"),
        sdist("a", "1.0"),
        wheel("a", "1.1"),
        wheel("a", "2.0rc1"),
        wheel("a", "2.0.dev3"),
        F("a-weird.tar.gz", "not a version", "sdist"),
    ]
    no_pre = FilterSpec(include_prereleases=False)
    assert names(no_pre.select_files(files)) == [
        "a-1.0-py3-none-any.whl",
        "a-1.0.tar.gz",
        "a-1.1-py3-none-any.whl",
        "a-weird.tar.gz",
    ]
    # latest N applies after the file-level filters.
    assert names(FilterSpec(include_prereleases=False, latest_versions=2).select_files(files)) == [
        "a-1.0-py3-none-any.whl",
        "a-1.0.tar.gz",
        "a-1.1-py3-none-any.whl",
    ]
    assert names(FilterSpec(latest_versions=1).select_files(files)) == ["a-2.0rc1-py3-none-any.whl"]
    assert names(FilterSpec(latest_versions=1, package_types=("sdist",)).select_files(files)) == ["a-1.0.tar.gz"]


def test_latest_versions_counts_installable_versions_only():
    files = [
        wheel("a", "1.0"),
        wheel("a", "1.1"),
        wheel("a", "2.0", yanked=True),
        sdist("a", "2.0", yanked=True),
        wheel("a", "3.0", yanked=True),
        wheel("a", "0.9", yanked=True),
    ]
    # The two newest are yanked: they take no slot; 1.0 and 1.1 are the two installable ones.
    assert names(FilterSpec(latest_versions=2).select_files(files)) == [
        "a-1.0-py3-none-any.whl",
        "a-1.1-py3-none-any.whl",
        "a-2.0-py3-none-any.whl",
        "a-2.0.tar.gz",
        "a-3.0-py3-none-any.whl",
    ]
    # Yanked versions older than the N-th installable one go (0.9 above); with fewer installable versions
    # than N, those older than the oldest installable one.
    assert "a-0.9-py3-none-any.whl" not in names(FilterSpec(latest_versions=5).select_files(files))
    assert names(FilterSpec(latest_versions=1).select_files(files)) == [
        "a-1.1-py3-none-any.whl",
        "a-2.0-py3-none-any.whl",
        "a-2.0.tar.gz",
        "a-3.0-py3-none-any.whl",
    ]
    # A release with one file left unyanked is installable.
    partly = [wheel("b", "1.0"), wheel("b", "2.0", yanked=True), sdist("b", "2.0")]
    assert names(FilterSpec(latest_versions=1).select_files(partly)) == ["b-2.0-py3-none-any.whl", "b-2.0.tar.gz"]
    # Nothing installable at all: the N highest versions, as before.
    all_yanked = [wheel("c", "1.0", yanked=True), wheel("c", "2.0", yanked=True)]
    assert names(FilterSpec(latest_versions=1).select_files(all_yanked)) == ["c-2.0-py3-none-any.whl"]


def test_version_falls_back_to_filename():
    files = [F("a-1.0-py3-none-any.whl", ""), F("a-2.0b1.tar.gz", "", "sdist")]
    assert names(FilterSpec(include_prereleases=False).select_files(files)) == ["a-1.0-py3-none-any.whl"]


# -- properties -------------------------------------------------------------------------------

versions = st.sampled_from(["0.1", "1.0", "1.0.post1", "1.1", "2.0a1", "2.0", "10.0.dev1", "bogus"])
tags = st.sampled_from(["py3-none-any", "cp311-cp311-manylinux_2_17_x86_64", "cp312-abi3-win_amd64", "py2-none-any"])
files_strategy = st.lists(
    st.one_of(
        st.builds(wheel, st.just("p"), versions, tags, size=st.integers(0, 1000), yanked=st.booleans()),
        st.builds(sdist, st.just("p"), versions, size=st.one_of(st.none(), st.integers(0, 1000)), yanked=st.booleans()),
    ),
    max_size=12,
    unique_by=lambda f: f.filename,
)
specs = st.builds(
    FilterSpec,
    package_types=st.sampled_from([(), ("sdist",), ("bdist_wheel",)]),
    platform_tags=st.sampled_from([(), ("any",), ("manylinux*",)]),
    python_versions=st.sampled_from([(), ("3.11",), ("3.12", "2.7")]),
    include_prereleases=st.booleans(),
    latest_versions=st.one_of(st.none(), st.integers(1, 4)),
    max_file_size=st.one_of(st.none(), st.integers(1, 1000)),
)


@given(spec=specs, files=files_strategy)
def test_selection_is_an_ordered_idempotent_subset(spec, files):
    selected = spec.select_files(files)
    assert all(f in files for f in selected)
    assert [f for f in files if f in selected] == selected  # input order kept
    assert spec.select_files(selected) == selected


@given(spec=specs, files=files_strategy)
def test_latest_n_grows_monotonically(spec, files):
    from dataclasses import replace

    smaller = replace(spec, latest_versions=1)
    larger = replace(spec, latest_versions=3)
    unlimited = replace(spec, latest_versions=None)
    assert set(smaller.select_files(files)) <= set(larger.select_files(files)) <= set(unlimited.select_files(files))


@given(spec=specs)
def test_to_dict_round_trips(spec):
    assert FilterSpec.from_dict(spec.to_dict()) == spec
