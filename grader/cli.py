"""Command line: ``grader grade``, ``grader gradescope``, ``grader release``,
``grader make-templates``, ``grader demo``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _demo(args: argparse.Namespace) -> int:
    # the catalogue of examples/checker, shipped in the wheel as grader.catalogue
    catalogue: Any = importlib.import_module("grader.catalogue.catalogue")

    rows, records, surprises = [], [], 0
    for outcome in catalogue.run_all(seed=args.seed):
        result = outcome.result
        expected = outcome.entry.expected or "passes"
        mark = "ok" if outcome.as_expected else "UNEXPECTED"
        surprises += 0 if outcome.as_expected else 1
        rows.append(
            (
                mark,
                outcome.entry.kind,
                outcome.entry.name,
                expected,
                result.status.value,
                result.message,
            )
        )
        records.append(
            {
                "entry": outcome.entry.name,
                "kind": outcome.entry.kind,
                "expected": outcome.entry.expected,
                **result.to_dict(),
            }
        )
    width = max(len(r[2]) for r in rows)
    for mark, kind, name, _expected, status, message in rows:
        print(f"{mark:<10} {kind:<22} {name:<{width}} {status:<13} {message}")
    print(
        f"\n{len(rows)} backward functions checked: {len(rows) - surprises} verdicts as "
        f"expected, {surprises} unexpected"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2, allow_nan=False))
        print(f"results written to {args.json}")
    return 1 if surprises else 0


def _make_templates(args: argparse.Namespace) -> int:
    from grader.course import templates

    reference, assignments = Path(args.reference), Path(args.assignments)
    names = (
        args.assignment
        or sorted(p.name for p in reference.iterdir() if p.is_dir() and any(p.glob("*.py")))
        if reference.is_dir()
        else []
    )
    if not names:
        print(
            f"grader make-templates: no reference assignments in {reference}; pass "
            "--reference PATH",
            file=sys.stderr,
        )
        return 2
    problems = []
    for name in names:
        if not (reference / name).is_dir():
            print(f"grader make-templates: no reference folder {reference / name}", file=sys.stderr)
            return 2
        try:
            if args.check:
                problems += templates.stale(reference / name, assignments / name / name)
            else:
                for path in templates.write(reference / name, assignments / name / name):
                    print(f"wrote {path}")
        except templates.TemplateError as exc:
            print(f"grader make-templates: {exc}", file=sys.stderr)
            return 2
    for problem in problems:
        print(problem)
    if args.check:
        print(
            "templates are stale: run grader make-templates"
            if problems
            else "templates are up to date"
        )
    return 1 if problems else 0


def _release(args: argparse.Namespace) -> int:
    from grader.course.release import ReleaseError, release

    try:
        files = release(
            args.assignment,
            Path(args.out),
            Path(args.assignments),
            Path(args.reference),
            args.force,
        )
    except (ReleaseError, OSError) as exc:
        print(f"grader release: {exc}", file=sys.stderr)
        return 2
    print(f"handout of {args.assignment} written to {args.out} ({len(files)} files)")
    return 0


def _user_id(name: str) -> int:
    """A user name or number, as a user id (the Gradescope fallback's student user)."""
    import pwd

    if name.isdigit():
        return int(name)
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise SystemExit(f"grader grade: --run-as: no user {name!r} on this machine") from None


def _bad_grade_option(args: argparse.Namespace) -> str | None:
    """The first bad option of ``grader grade``, said with its fix."""
    if args.workers < 1:
        return f"--workers must be at least 1 (got {args.workers})"
    if not args.timeout > 0:
        return f"--timeout must be a positive number of seconds (got {args.timeout:g})"
    if args.memory < 64:
        return f"--memory must be at least 64 (MB; got {args.memory})"
    if not args.budget > 0:
        return f"--budget must be a positive number of seconds (got {args.budget:g})"
    if args.run_as and not args.no_sandbox:
        return "--run-as goes with --no-sandbox (the jail has its own user)"
    if args.roster and not Path(args.roster).is_file():
        return f"--roster {args.roster}: no such file; give the CSV exported from Canvas"
    return None


def _grade(args: argparse.Namespace) -> int:
    from grader.batch.grade import BatchError, Course, Options, run
    from grader.batch.printable import printable

    problem = _bad_grade_option(args)
    if problem:
        print(f"grader grade: {printable(problem)}", file=sys.stderr)
        return 2
    course = Course(Path(args.course).resolve(), args.assignment)
    options = Options(
        workers=args.workers,
        timeout=args.timeout,
        memory_mb=args.memory,
        budget=args.budget,
        force=args.force,
        canvas=args.canvas or bool(args.roster),
        roster=Path(args.roster) if args.roster else None,
        canvas_column=args.canvas_assignment or "",
        sandbox=not args.no_sandbox,
        run_as=_user_id(args.run_as) if args.run_as else None,
    )
    if args.no_sandbox:
        print(
            "grader grade: warning: --no-sandbox: students' code runs with your rights and "
            "can read, change or delete your files",
            file=sys.stderr,
        )
    out = Path(args.out)
    start = time.perf_counter()

    def say(text: str) -> None:
        print(printable(text))

    try:
        if args.dask:
            from grader.batch.dask_executor import dask_executor

            rows = run(
                [Path(p) for p in args.submissions],
                course,
                out,
                options,
                executor=dask_executor(args.dask),
                log=say,
            )
        else:
            rows = run([Path(p) for p in args.submissions], course, out, options, log=say)
    except BatchError as exc:
        print(f"grader grade: {printable(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(
            printable(
                f"grader grade: cannot write{where}: {exc.strerror or exc}; choose an --out "
                "folder you can write to"
            ),
            file=sys.stderr,
        )
        return 2
    elapsed = time.perf_counter() - start
    if not rows:
        print("grader grade: no submissions found", file=sys.stderr)
        return 1
    mean = sum(r.score for r in rows) / len(rows)
    unusable = sum(r.status in ("empty submission", "unreadable submission") for r in rows)
    errors = sum(r.status == "error" for r in rows)
    say(
        f"graded {len(rows)} submissions of {args.assignment} in {elapsed:.1f} s: mean "
        f"{mean:.1f}/{rows[0].max_score:g}, {errors} with errors, {unusable} empty or "
        f"unreadable; {out / 'gradebook.csv'}, {out / 'summary.html'}"
    )
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from grader.course import gradescope
    from grader.course.wheel import WheelError, grader_wheel

    for flag, ok in (
        ("--timeout", args.timeout > 0),
        ("--memory", args.memory >= 64),
    ):
        if not ok:
            rule = "be more than 0 seconds" if flag == "--timeout" else "be at least 64 (MB)"
            print(f"grader gradescope: {flag} must {rule}", file=sys.stderr)
            return 2
    settings = gradescope.Settings(
        assignment=args.assignment,
        hidden_visibility=args.hidden_visibility,
        output_format=args.output_format,
        timeout=args.timeout,
        memory_mb=args.memory,
    )
    out = Path(args.out)
    try:
        gradescope.course_files(Path(args.course), args.assignment)  # a slip stops us before pip
        wheel = Path(args.wheel) if args.wheel else grader_wheel()
        names = gradescope.write_zip(out, Path(args.course), settings, wheel)
    except (gradescope.PackageError, WheelError) as exc:
        print(f"grader gradescope: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"grader gradescope: cannot write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(
        f"autograder of {args.assignment} written to {out} ({len(names)} files; hidden tests "
        f"{args.hidden_visibility}, output {args.output_format}): upload it on Gradescope under "
        "Configure Autograder, Zip file upload"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="check the bundled catalogue of right and wrong backward functions",
        description="Check every backward function of the bundled catalogue (examples/checker "
        "in the repository) and print the diagnosis of each.",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed for inputs and probes")
    demo.add_argument("--json", metavar="FILE", help="also write every result record as JSON")
    demo.set_defaults(run=_demo)

    make = sub.add_parser(
        "make-templates",
        help="generate the student templates of assignments/ from reference/",
        description="Strip the BEGIN/END SOLUTION blocks of reference/<name>/*.py into "
        "assignments/<name>/<name>/.",
    )
    make.add_argument("assignment", nargs="*", help="assignments to generate (default: all)")
    make.add_argument("--reference", default="reference", help="the reference folder")
    make.add_argument("--assignments", default="assignments", help="the assignments folder")
    make.add_argument(
        "--check",
        action="store_true",
        help="only report templates that differ from a fresh generation",
    )
    make.set_defaults(run=_make_templates)

    rel = sub.add_parser(
        "release",
        help="write a student handout: template, public tests, README, install notes",
        description="Copy an assignment's template package, public tests and README into "
        "OUT; refuses stale templates and any solution line.",
    )
    rel.add_argument("assignment", help="the assignment to release, e.g. layers")
    rel.add_argument("--out", required=True, help="the handout folder to create")
    rel.add_argument("--reference", default="reference", help="the reference folder")
    rel.add_argument("--assignments", default="assignments", help="the assignments folder")
    rel.add_argument("--force", action="store_true", help="replace a non-empty OUT")
    rel.set_defaults(run=_release)

    grade = sub.add_parser(
        "grade",
        help="grade a class: folders, .py files, notebooks or LMS (Canvas) .zip downloads",
        description="Grade every submission with the assignment's public and hidden tests, "
        "each in its own sandbox; writes OUT/<id>/results.json and report.html, "
        "OUT/gradebook.csv and OUT/summary.html. Rerunning continues where a "
        "stopped batch left off.",
    )
    grade.add_argument("submissions", nargs="+", help="submission folders, files or archives")
    grade.add_argument("-a", "--assignment", required=True, help="the assignment, e.g. layers")
    grade.add_argument("--out", required=True, help="the output folder")
    grade.add_argument(
        "--course", default=".", help="the folder holding assignments/ and reference/ (default: .)"
    )
    grade.add_argument("--workers", type=int, default=1, help="parallel workers (default 1)")
    grade.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds one call into a submission may take (default 30)",
    )
    grade.add_argument(
        "--memory",
        type=int,
        default=2048,
        help="memory limit of a submission in MB: each process's address space, and all its "
        "processes together where cgroups can be had (default 2048)",
    )
    grade.add_argument(
        "--budget",
        type=float,
        default=900.0,
        help="seconds of wall and of CPU time all calls into one submission may take together "
        "(default 900)",
    )
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade without the bubblewrap jail (unsafe: only for code you trust, or where "
        "bubblewrap cannot run; said on every run)",
    )
    grade.add_argument(
        "--run-as",
        metavar="USER",
        help="with --no-sandbox, as root: run the students' code as this unprivileged user "
        "(what Gradescope recommends where namespaces are refused)",
    )
    grade.add_argument(
        "--force",
        action="store_true",
        help="regrade everything, even what the journal says is done",
    )
    grade.add_argument(
        "--canvas", action="store_true", help="write gradebook.csv in Canvas's import layout"
    )
    grade.add_argument(
        "--roster",
        metavar="CSV",
        help="the class from Canvas's gradebook export (Grades > Export): fills the Canvas "
        "CSV's Student, ID, SIS and Section columns for everyone (implies --canvas)",
    )
    grade.add_argument(
        "--canvas-assignment",
        metavar="'NAME (ID)'",
        help="the Canvas column to fill, as Canvas's export names it (default: the roster's "
        "column naming the assignment, else the assignment's name, which Canvas imports as "
        "a new assignment)",
    )
    grade.add_argument(
        "--dask", metavar="ADDRESS", help="run the grading on a Dask distributed scheduler"
    )
    grade.set_defaults(run=_grade)

    from grader.results.gradescope import OutputFormat, Visibility

    scope = sub.add_parser(
        "gradescope",
        help="build a Gradescope autograder zip for an assignment",
        description="Write a Gradescope autograder zip: setup.sh and run_autograder at its "
        "root, the grader's wheel, and the assignment's template, public and hidden tests and "
        "reference (upload it to Gradescope only; it holds the solutions). On Gradescope each "
        "submission is graded with the same tests and sandbox as grader grade.",
    )
    scope.add_argument("assignment", help="the assignment, e.g. layers")
    scope.add_argument("--out", required=True, help="the zip to write, e.g. autograder.zip")
    scope.add_argument(
        "--course", default=".", help="the folder holding assignments/ and reference/ (default: .)"
    )
    scope.add_argument(
        "--hidden-visibility",
        choices=[v.value for v in Visibility],
        default="after_due_date",
        help="when students see the hidden tests' results: never, after the due date "
        "(default) or once grades are published",
    )
    scope.add_argument(
        "--output-format",
        choices=[f.value for f in OutputFormat],
        default="md",
        help="Markdown (default: the diagnosis, the worst element, a summary) or plain text",
    )
    scope.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds one call into a submission may take (default 30)",
    )
    scope.add_argument(
        "--memory",
        type=int,
        default=2048,
        help="memory limit of a submission's process in MB (default 2048)",
    )
    scope.add_argument(
        "--wheel", metavar="FILE", help="ship this backprop_grader wheel instead of building one"
    )
    scope.set_defaults(run=_gradescope)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
