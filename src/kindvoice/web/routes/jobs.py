"""Renders through the job queue: the Build, Timer and Course forms' posts (read by
``web.forms``, then queued; the page goes to the job's page), practice previews, the
job's page and its state as JSON (polled by ``static/app.js``), and sending a failed or
interrupted job's form again (``POST /jobs/<id>/retry``): each job keeps the form that
asked for it, and ``KINDS`` reads a form of each kind into a job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from kindvoice.audio import s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import NotFound, UsageError
from kindvoice.web import forms, renders, shipped, translations
from kindvoice.web.jobs import FormPairs, Job, Work
from kindvoice.web.practices import practice
from kindvoice.web.state import course_available, current, speech_workers

bp = Blueprint("jobs", __name__)

#: where a finished job's result is shown, by the job's kind
RESULT_PAGES = {
    "session": ("sessions.player_page", "stem"),
    "timer": ("sessions.player_page", "stem"),
    "course": ("sessions.course_result", "slug"),
    "preview": ("sessions.preview_file", "name"),
}
#: the longest waiter name a page may give (``JobQueue.leave``)
_WAITER_CHARS = 64


def waiter(values: forms.Form) -> str | None:
    """The page that asks or polls (its own random name, ``waiter``), if it says."""
    return (values.get("waiter") or "").strip()[:_WAITER_CHARS] or None


def _kept(form: forms.Form) -> FormPairs:
    """The form's fields as kept with the job and the session (never the token)."""
    return [(name, value) for name, value in form.items(multi=True) if name != "token"]


def _session_job(form: forms.Form) -> tuple[str, Work]:
    read = forms.build_render(form)
    info = {**read.info, "variables": read.request.variables, "form": _kept(form)}
    return read.title, renders.session_work(current().library, read.request, read.practice_id, info)


def _timer_job(form: forms.Form) -> tuple[str, Work]:
    spec, request_, info = forms.timer_render(form)
    work = renders.timer_work(current().library, spec, request_, info)
    return f"Timer, {clock(s_to_samples(spec.minutes * 60))}", work


def _course_job(form: forms.Form) -> tuple[str, Work]:
    if not course_available():
        raise UsageError("The course builder is not part of this installation.")
    plan = forms.course_plan(form)
    state = current()
    work = renders.course_work(state.library, plan, state.templates_dir, speech_workers())
    return f"Course: {plan.title}, {plan.count} days", work


#: how a form of each kind of job becomes the job (its title and work)
KINDS: dict[str, Callable[[forms.Form], tuple[str, Work]]] = {
    "session": _session_job,
    "timer": _timer_job,
    "course": _course_job,
}


def _submit(kind: str, form: forms.Form) -> BaseResponse:
    title, work = KINDS[kind](form)
    job = current().jobs.submit(kind, title, work, _kept(form))
    return redirect(url_for("jobs.job_page", job_id=job.id), code=303)


@bp.post("/build")
def build_submit() -> BaseResponse:
    return _submit("session", request.form)


@bp.post("/timer")
def timer_submit() -> BaseResponse:
    return _submit("timer", request.form)


@bp.post("/course")
def course_submit() -> BaseResponse:
    return _submit("course", request.form)


@bp.post("/jobs/<job_id>/retry")
def retry_job(job_id: str) -> BaseResponse:
    """Send a failed or interrupted job's form again: a new job, its page."""
    job = _job(job_id)
    if not job.retryable or job.kind not in KINDS:
        raise UsageError(f"The render '{job.title}' is {job.status}: nothing to retry.")
    return _submit(job.kind, MultiDict(job.form))


@bp.post("/api/previews/<practice_id>")
def preview(practice_id: str) -> Response:
    """The practice's preview clip in the card's ``language``: the shipped one when it
    was made from the script as it is now (``web.shipped``), else the one rendered into
    the library, else the job rendering it (one job per clip, whoever asks:
    ``JobQueue.submit``'s key). A rendered clip is named by its digest, so a changed
    script is rendered again."""
    state = current()
    language = translations.language_code(request.values.get("language"))
    value, path = practice(practice_id, language)
    name, digest = shipped.preview_name(value, language), shipped.preview_digest(path)
    if shipped.ready(name, digest) is not None:
        return jsonify(url=url_for("shipped.shipped_file", name=name))
    target = state.library.previews / shipped.rendered_name(name, digest)
    if target.is_file():
        return jsonify(url=url_for("sessions.preview_file", name=target.name))
    work = renders.preview_work(state.library, target.name, path, state.templates_dir)
    job = state.jobs.submit(
        "preview", f"Preview of {value}", work, key=target.name, waiter=waiter(request.form)
    )
    return jsonify(job=job.id, poll=url_for("jobs.job_state", job_id=job.id))


def _job(job_id: str, hint: str = "") -> Job:
    job = current().jobs.get(job_id)
    if job is None:
        raise NotFound(f"No render '{job_id}'{hint}.")
    return job


@bp.get("/jobs/<job_id>")
def job_page(job_id: str) -> str:
    job = _job(job_id, " (the server may have restarted)")
    return render_template("job.html", job=job, state=current().jobs.state(job), nav="")


@bp.post("/api/jobs/<job_id>/leave")
def leave_job(job_id: str) -> Response:
    """The page ``waiter`` waits for this job no more (it moved on, or was closed: sent
    with ``navigator.sendBeacon``); a preview, sample or measurement nobody else waits for
    is cancelled. A teacher's render is kept work: it goes on."""
    name = waiter(request.form)
    if name is None:
        raise UsageError("Say which page leaves (the field 'waiter').")
    return jsonify(cancelled=current().jobs.leave(job_id, name))


@bp.get("/api/jobs/<job_id>")
def job_state(job_id: str) -> Response:
    job = _job(job_id)
    current().jobs.watch(job, waiter(request.args))
    body = current().jobs.state(job)
    if job.status == "done" and job.result is not None and job.kind in RESULT_PAGES:
        endpoint, argument = RESULT_PAGES[job.kind]
        values: dict[str, Any] = {argument: job.result}
        body["url"] = url_for(endpoint, **values)
    return jsonify(body)
