# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the collection, shared by every layer (pure Python). Modules turn them into fail_json at
one place (``ops.entry.run``)."""

from __future__ import annotations


class Cloud1Error(Exception):
    """Base error: the message says what happened and what to do about it."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(Cloud1Error):
    """The request is wrong; nothing was changed."""


class ConnectionFailed(Cloud1Error):
    """A node's libvirt could not be reached."""


class NotFound(Cloud1Error):
    """A named object (domain, node, image) does not exist."""


class MissingDependency(Cloud1Error):
    """A Python library or host tool the operation needs is not installed."""


class OperationFailed(Cloud1Error):
    """libvirt or a host tool refused or failed an operation."""


class AgentUnavailable(OperationFailed):
    """The guest agent is absent, does not answer, or the driver has none: waiting will not help."""
