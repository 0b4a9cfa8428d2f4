"""The network-namespace lab is host-wide: a second checkout must not take it over."""

import os

import pytest

from lab import netlab


def test_second_checkout_is_refused_and_the_lab_keeps_running(lab, tmp_path):
    other = netlab.Lab(str(tmp_path / 'other-checkout'))
    for action in (other.up, other.down):
        with pytest.raises(SystemExit) as caught:
            action()
        message = str(caught.value)
        assert 'is in use by the checkout whose lab directory is %s' % lab['dir'] in message
        assert 'netlab.py down --dir %s' % lab['dir'] in message
    # Nothing of the running lab was touched.
    for key in ('squid', 'weed'):
        os.kill(lab[key]['pid'], 0)
    assert os.path.exists('/run/netns/%s' % netlab.NS_PROXY)
    with open(netlab.OWNER_FILE) as f:
        assert f.read().strip() == lab['dir']
    assert not os.path.exists(str(tmp_path / 'other-checkout'))
