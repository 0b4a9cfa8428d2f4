"""Shared fixtures: the network-namespace lab (Squid + SeaweedFS) and helpers."""

import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from lab import netlab  # noqa: E402


@pytest.fixture(scope='session')
def lab():
    """The lab's state. Started here unless `make` already brought it up."""
    state_file = os.path.join(netlab.DEFAULT_DIR, 'state.json')
    started = False
    if not os.path.exists(state_file) or not _alive(state_file):
        netlab.Lab().up()
        started = True
    with open(state_file) as f:
        state = json.load(f)
    yield state
    if started and not os.environ.get('KEEP_LAB'):
        netlab.Lab().down()


def _alive(state_file):
    with open(state_file) as f:
        state = json.load(f)
    for key in ('squid', 'weed'):
        try:
            os.kill(state[key]['pid'], 0)
        except (KeyError, OSError):
            return False
    return True
