# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action log every executor records its steps in: a change is recorded and (outside check mode)
carried out; a note is only recorded. ``changed``, ``actions`` and the diff of every module's result are built
here, the same way for all of them."""

from __future__ import annotations


class ActionLog:
    def __init__(self, check_mode=False):
        self.check = bool(check_mode)
        self.actions = []       # what was (or would be) done, and notes, in order
        self.changed = False

    def note(self, text):
        """Something to report that is not a change."""
        self.actions.append(text)

    def change(self, text, fn=None, *args, **kwargs):
        """A change: recorded, and carried out with ``fn(*args, **kwargs)`` unless in check mode."""
        self.actions.append(text)
        self.changed = True
        if not self.check and fn is not None:
            return fn(*args, **kwargs)
        return None

    def result(self, before=None, after=None, **fields):
        """The module's result: ``fields`` plus changed, actions and (when something changed) the diff."""
        out = dict(fields, changed=self.changed, actions=list(self.actions))
        if self.changed and (before is not None or after is not None):
            out["diff"] = {"before": before if before is not None else {}, "after": after if after is not None else {}}
        return out
