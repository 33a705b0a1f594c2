"""The gradient checker: finite differences, Jacobian structures, projection
screens, the Taylor test, tolerances and metrics, validation of returned
values, hygiene probes, diagnosis and the mistake catalogue, and the result
record. It imports nothing from the other parts of grader/."""
