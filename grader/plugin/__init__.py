"""The pytest plugin: hooks and options, the ``checker`` fixture, the
``student`` handle (in-process, or proxies into the sandbox in grading mode),
session totals and the scoreboard."""
