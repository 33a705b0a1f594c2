"""Course tooling: templates generated from the reference (``grader
make-templates``) and handouts (``grader release``)."""
