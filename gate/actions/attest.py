"""`--attest FILE --sign-key KEY`: sign the decision (in-toto VSA) and its evidence (vulns) as DSSE envelopes.

Runs first among the actions: it records the verdict itself. The key is loaded in `prepare`, before
anything is fetched, so a missing key file or a KMS key gate may not use stops the run at once. A run
with no verdict signs nothing; a signature that fails after the verdict is a FAILED record (exit 3),
and the file is replaced only once every envelope is signed and checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gate.actions.interface import Outcome
from gate.attestation.keys import KeyRef, load_signer
from gate.errors import GateError
from gate.files import atomic_write
from gate.outcome import ActionRecord, ActionStatus

if TYPE_CHECKING:
    from securesystemslib.signer import Signer

NAME = "attest"
OPERATION = "sign"


class AttestAction:
    """Writes one JSON Lines file of signed statements about the verdict."""

    name = NAME
    revocable = False
    """A signed decision records the verdict, which a later failed action does not change: it stays as written."""

    def __init__(self, path: Path, key: KeyRef, *, region: str | None = None, profile: str | None = None) -> None:
        self.path = path
        self.key = key
        self._region = region
        self._profile = profile
        self._signer: Signer | None = None

    def prepare(self) -> None:
        self._signer = load_signer(self.key, region=self._region, profile=self._profile)

    def _record(self, status: ActionStatus, detail: str) -> tuple[ActionRecord, ...]:
        return (ActionRecord(action=NAME, target=str(self.path), operation=OPERATION, status=status, detail=detail),)

    def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]:
        evaluation = outcome.evaluation
        if outcome.error is not None or evaluation is None:
            return self._record(ActionStatus.SKIPPED, "gate could not decide, so there is no decision to sign; "
                                "nothing was written")
        if self._signer is None:
            return self._record(ActionStatus.FAILED, "the signing key was not loaded")
        from securesystemslib.exceptions import Error as SigningError  # noqa: PLC0415

        from gate.attestation.envelopes import Unsigned, sign  # noqa: PLC0415
        from gate.attestation.statements import NoSubject, statements  # noqa: PLC0415

        passed = outcome.passed
        try:
            lines = [sign(statement, self._signer) for statement in statements(evaluation, passed)]
            atomic_write(self.path, b"".join(line + b"\n" for line in lines))
        except NoSubject as e:
            return self._record(ActionStatus.FAILED, f"{e}; judge a build version (or its snapshot)")
        except GateError as e:
            return self._record(ActionStatus.FAILED, f"not signed, nothing written: {e.diagnostics()}")
        except (Unsigned, SigningError, ValueError) as e:
            return self._record(ActionStatus.FAILED, f"not signed, nothing written: {e}")
        except OSError as e:
            return self._record(ActionStatus.FAILED, f"signed but not written: {e.strerror or e}")
        result = "PASSED" if passed else "FAILED"
        return self._record(ActionStatus.DONE, f"{len(lines)} envelopes, verificationResult {result}, "
                            f"key {self.key.text}")
