"""Pick the engine for a plan. Knows engines only through the Backend interface.

The cloud is looked up only when the local engine cannot run the plan (or the user asked
for it), so a local job never imports the cloud client. Consent is part of the interface:
a backend that would send something off this machine says what (``upload_offer``) and
whether the user already allowed it (``allowed_by_user``); this layer refuses to go on
without that permission or the job's own ``allow_cloud``.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import CloudNotAllowed, UnsupportedCodec, UsageError


def choose_backend(plan, backends: Mapping) -> tuple[object, str]:
    """(backend, why) for this plan, honouring the spec's preference and the upload permission."""
    spec = plan.spec
    local = backends.get("local")
    local_problem = local.unsupported_reason(plan) if local else "no local backend"

    if spec.backend == "local":
        if local_problem:
            raise UnsupportedCodec(f"{plan.source.path}: track {plan.track.number}: {local_problem}")
        return local, "local backend requested"
    if spec.backend == "remote":
        remote = backends.get("remote")
        if remote is None:
            raise UsageError("the remote backend is not available in this build")
        problem = remote.unsupported_reason(plan)
        if problem:
            raise UnsupportedCodec(f"{plan.source.path}: the remote backend cannot run this job: {problem}")
        return remote, "remote backend requested"  # --backend remote is itself the permission

    if not local_problem:
        return local, "local engine handles this track"
    where = f"{plan.source.path}: track {plan.track.number}: {local_problem}"
    remote = backends.get("remote")
    if remote is None:
        raise UnsupportedCodec(where)
    remote_problem = remote.unsupported_reason(plan)
    if remote_problem:
        raise UnsupportedCodec(f"{where}; the cloud backend cannot take it either: {remote_problem}")
    _check_consent(remote, plan, where)
    return remote, f"cloud fallback: {local_problem}; uploads allowed"


def _check_consent(backend, plan, where: str) -> None:
    """Uploading someone's media is their decision: say what would be sent and how to say yes."""
    offer = backend.upload_offer(plan)
    if offer is None or plan.spec.allow_cloud or backend.allowed_by_user():
        return
    raise CloudNotAllowed(f"{where}; {offer}", hint=backend.how_to_allow())
