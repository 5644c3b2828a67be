"""Verification's operations: answering an application (answers.py), the departments' desk
(desk.py), reading results and checking audit chains (results.py); their errors (errors.py)."""
