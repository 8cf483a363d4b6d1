"""The one place slow work leaves the GUI thread (STYLE.md principle 9; PySide6's
`thread_signals` example): model loading, recognition and synthesis run in two `QThread`s
(`.recognition` and `.synthesis`, on `.base`; the GUI thread drives them through
`.models.ModelWorkers`), talk to the `handwriting.service` API only, and report back
through typed Qt signals. The LSTM lab's training gets a thread of its own while it runs
(`.lab.LabTraining`); adapting the recognizer to a writer runs `handwriting adapt` in a child
process (`.adaptation.AdaptationProcess`). Import each name from its module; the messages
are in `gui.messages`.

Recognition is latest-request-wins: every request gets a sequence number, the worker skips a
request that a newer one has overtaken before it starts, and `ModelWorkers` drops any result
that is not the newest. The insight dock's requests (one line's cells and gates, a saliency
map) run in the recognition thread after the recognition requests queued before them, and
are latest-wins the same way. Synthesis streams: the service yields one frame per sampled
point, the worker batches new points about 60 times a second, and `stop_synthesis` cancels
it between steps through the service's `should_stop` callback. Nothing here imports torch at
import time.
"""
