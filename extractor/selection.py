"""Pick the backend for a plan. Knows backends only through their small interface."""

from __future__ import annotations

from .errors import CloudNotAllowed, UnsupportedCodec, UsageError


def choose_backend(plan, backends: dict) -> tuple[object, str]:
    """(backend, why) for this plan, honouring the spec's preference and the cloud permission."""
    spec = plan.spec
    local = backends.get("local")
    remote = backends.get("remote")
    local_problem = local.unsupported_reason(plan) if local else "no local backend"

    if spec.backend == "local":
        if local_problem:
            raise UnsupportedCodec(f"{plan.source.path}: track {plan.track.number}: {local_problem}")
        return local, "local backend requested"
    if spec.backend == "remote":
        if remote is None:
            raise UsageError("the remote backend is not available in this build")
        problem = remote.unsupported_reason(plan)
        if problem:
            raise UnsupportedCodec(f"{plan.source.path}: the remote backend cannot run this job: {problem}")
        return remote, "remote backend requested"

    if not local_problem:
        return local, "local engine handles this track"
    where = f"{plan.source.path}: track {plan.track.number}: {local_problem}"
    if remote is None:
        raise UnsupportedCodec(where)
    remote_problem = remote.unsupported_reason(plan)
    if remote_problem:
        raise UnsupportedCodec(f"{where}; the cloud backend cannot take it either: {remote_problem}")
    if not spec.allow_cloud:
        # Uploading someone's media is their decision: say what the cloud would do and how to say yes.
        offer = getattr(remote, "describe_offer", None)
        how = getattr(remote, "how_to_allow", None)
        raise CloudNotAllowed(
            f"{where}; " + (offer(plan) if offer else "the cloud backend could convert it, but that uploads the file"),
            hint=how() if how else "allow it with --allow-cloud")
    return remote, f"cloud fallback: {local_problem}; uploads allowed"
