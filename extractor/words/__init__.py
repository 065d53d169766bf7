"""Requests in words -> job spec options: the `vax do` interpreter (offline, rule-based).

May import the domain (job spec, policy, time parsing, errors) and never an interface
(CLI, web, batch) or an engine.
"""

from .interpret import INTENTS, Interpretation, describe, interpret

__all__ = ["INTENTS", "Interpretation", "describe", "interpret"]
