# -*- coding: utf-8 -*-
"""The table of validation cases shared by module_utils and the extension (validation_cases.json).

Standard library only: it is imported by the module_utils tests (the tools'
Python) and by the extension's tests (Glance's Python).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'validation_cases.json')
FIELDS = ('host', 'port', 'user', 'password', 'scheme', 'cacert')
VERDICTS = ('valid', 'invalid')
KEYS = frozenset(('field', 'value', 'with', 'verdict', 'module', 'extension', 'why', 'message', 'normalized', 'note'))


def value_of(raw):
    """A table value: JSON as it is, or a list of pieces (a string, or [string, times]) joined into one string."""
    if isinstance(raw, list):
        return ''.join(piece if isinstance(piece, str) else piece[0] * piece[1] for piece in raw)
    return raw


def as_text(value):
    """The text a value becomes in Glance's configuration (as the role's oslo_render writes it); None is unset."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


class Case:
    def __init__(self, index, raw):
        unknown = set(raw) - KEYS
        assert not unknown, 'case %d: unknown keys %s' % (index, sorted(unknown))
        self.index = index
        self.raw = raw
        self.field = raw['field']
        self.value = value_of(raw['value'])
        self.settings = dict(load()['base'])
        self.settings.update(raw.get('with') or {})
        self.settings[self.field] = self.value
        self.module = raw.get('module', raw.get('verdict'))
        self.extension = raw.get('extension', raw.get('verdict'))
        self.message = raw.get('message') or {}
        self.normalized = value_of(raw['normalized']) if 'normalized' in raw else self.value

    @property
    def id(self):
        shown = repr(self.value)
        if len(shown) > 30:
            shown = shown[:24] + '...%d' % len(shown)
        return '%d-%s-%s' % (self.index, self.field, shown)


def assert_outcome(case, side, problems):
    """``problems`` is what ``side`` ('module' or 'extension') said about ``case``: check it against the table."""
    verdict = case.module if side == 'module' else case.extension
    assert ('invalid' if problems else 'valid') == verdict, problems
    if problems:
        assert len(problems) == 1, problems  # one case, one broken rule
    if side in case.message:
        assert case.message[side] in problems[0], problems
    if case.field == 'password' and isinstance(case.value, str) and len(case.value) > 2:
        assert not any(case.value in problem for problem in problems)  # a password is never shown


_LOADED = {}


def load():
    if not _LOADED:
        with open(TABLE) as f:
            _LOADED.update(json.load(f))
    return _LOADED


def cases():
    return [Case(index, raw) for index, raw in enumerate(load()['cases'])]
