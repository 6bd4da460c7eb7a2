"""manage.py probe and the queue task."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django_q.tasks import async_task, result

from mirrormanager.schedules import SCHEDULES
from mirrors.models import HostURL, ProbeState, URLScheme
from tests.factories import HostFactory, HostURLFactory
from tests.fake_http import serve

pytestmark = pytest.mark.django_db


def test_the_command_probes_what_is_due_and_one_host_on_demand(probe_settings, origin, tmp_path, capsys):
    mirror = origin.write_mirror(tmp_path / "m", 5)
    with serve(root=mirror) as server:
        url = HostURLFactory(host=HostFactory(approved=True), url=server.url("/"), scheme=URLScheme.HTTP)
        call_command("probe")
        out = capsys.readouterr().out
        assert "1 URLs probed: 1 behind" in out and f"{url.url} IPv4 behind: revision 5, 1 revision behind" in out
        call_command("probe")
        assert "no mirror URL is due" in capsys.readouterr().out
        call_command("probe", "--host", url.host.name)
        assert "1 URLs probed" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no host named 'nope.example.org'"):
        call_command("probe", "--host", "nope.example.org")


def test_the_queue_task_runs_and_is_scheduled(probe_settings, origin, tmp_path, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    mirror = origin.write_mirror(tmp_path / "m", 6)
    with serve(root=mirror) as server:
        HostURLFactory(host=HostFactory(approved=True), url=server.url("/"), scheme=URLScheme.HTTP)
        task_id = async_task("mirrors.probing.tasks.probe_task", sync=True)
    assert result(task_id) == "1 URLs probed: 1 current; 0 switched off, 0 back on"
    assert HostURL.objects.get().probe_state == ProbeState.CURRENT
    assert any(spec.func == "mirrors.probing.tasks.probe_task" for spec in SCHEDULES)
