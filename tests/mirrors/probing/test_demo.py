"""The demo network: six local mirrors made with rsync, registered, approved and probed into every state."""

from __future__ import annotations

import socket
from io import StringIO

import pytest
from django.core.management import call_command

from mirrors.models import Host, HostState, HostURL, ProbeState

pytestmark = pytest.mark.django_db


def free_base_port(count: int) -> int:
    for start in range(23000, 40000, 97):
        sockets = []
        try:
            for port in range(start, start + count):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                sockets.append(sock)
            return start
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free ports")


def test_the_demo_shows_every_state_and_is_idempotent(monkeypatch, settings, mirror_root):
    monkeypatch.setenv("DEMO_MIRRORS_PORT", str(free_base_port(6)))
    out = StringIO()
    call_command("demo", stdout=out)
    log = out.getvalue()
    assert "the demo mirror beta lacks it" in log
    # The registry's demo rows (other states, no live URLs) are not the probes' concern here.
    urls = HostURL.objects.filter(host__name__endswith=".mirrors.example")
    states = dict(urls.values_list("host__name", "probe_state"))
    assert states == {
        "alpha.mirrors.example": ProbeState.CURRENT,
        "beta.mirrors.example": ProbeState.BEHIND,
        "gamma.mirrors.example": ProbeState.CORRUPT,
        "delta.mirrors.example": ProbeState.INCOMPLETE,
        "epsilon.mirrors.example": ProbeState.BROKEN,
        "zeta.mirrors.example": ProbeState.CURRENT,
    }, log
    assert set(Host.objects.filter(name__endswith=".mirrors.example").values_list("state", flat=True)) == {
        HostState.APPROVED
    }
    beta = HostURL.objects.get(host__name="beta.mirrors.example")
    assert beta.probe_revisions_behind == 1
    assert (settings.VAR_DIR / "demo-mirrors" / "alpha" / "simple" / "index.html").exists()

    call_command("demo", stdout=StringIO())
    assert urls.count() == 6
    assert dict(urls.values_list("host__name", "probe_state")) == states
