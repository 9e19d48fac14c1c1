"""`make run` serves this machine only; `make run-lan` the local network, with links that open there."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tracker.devdata import lan

ROOT = Path(__file__).resolve().parent.parent

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _planned(*arguments):
    """What `make -n` would run: the server's command line and what it prints."""
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    server = next(line for line in lines if "manage.py runserver" in line)
    return server, "\n".join(line for line in lines if line.startswith("echo"))


@needs_make
def test_make_run_serves_this_machine_only_and_links_to_it():
    server, banner = _planned("run")
    assert server.endswith("manage.py runserver 127.0.0.1:8000")
    assert "SITE_URL=http://127.0.0.1:8000 " in server
    assert "ana " in banner and "lena " in banner and "needle-demo-2026" in banner
    assert "Open the patient's page here" in banner


@needs_make
def test_make_run_lan_serves_the_network_and_links_to_this_machines_address():
    server, banner = _planned("run-lan", "ADDRESS=192.168.1.20", "PORT=8001")
    assert server.endswith("manage.py runserver 0.0.0.0:8001")
    assert "SITE_URL=http://192.168.1.20:8001 " in server
    assert "ALLOWED_HOSTS='192.168.1.20," in server
    assert "http://192.168.1.20:8001" in banner and "scan its QR code" in banner


@needs_make
def test_any_port_reaches_the_links():
    server, _ = _planned("run", "PORT=8123")
    assert (
        server.endswith("runserver 127.0.0.1:8123") and "SITE_URL=http://127.0.0.1:8123 " in server
    )


class _Probe:
    """A UDP socket whose route leads out through ``source``, or nowhere."""

    source = None

    def __init__(self, *args):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def connect(self, address):
        if self.source is None:
            raise OSError("Network is unreachable")

    def getsockname(self):
        return (self.source, 40000)


def test_lan_address_is_where_the_route_out_starts(monkeypatch):
    monkeypatch.setattr(_Probe, "source", "192.168.1.20")
    monkeypatch.setattr(lan.socket, "socket", _Probe)
    assert lan.lan_address() == "192.168.1.20"


def test_lan_address_without_a_route_tries_the_host_name_and_never_gives_loopback(monkeypatch):
    monkeypatch.setattr(lan.socket, "socket", _Probe)
    monkeypatch.setattr(
        lan.socket, "gethostbyname_ex", lambda name: (name, [], ["127.0.1.1", "10.0.0.7"])
    )
    assert lan.lan_address() == "10.0.0.7"
    monkeypatch.setattr(lan.socket, "gethostbyname_ex", lambda name: (name, [], ["127.0.1.1"]))
    assert lan.lan_address() is None
