"""Progress of long steps in the job log: rows done, share, rows per second; never more often
than asked."""

import logging

from wwvw.core.logs import Progress


def test_progress_logs_rows_share_and_rate_at_most_every_interval(caplog):
    log = logging.getLogger("wwvw.test.progress")
    with caplog.at_level(logging.INFO, logger="wwvw.test.progress"):
        quiet = Progress(log, "quiet", total=100, every=3600)
        quiet.update(50)
        assert caplog.text == ""
        loud = Progress(log, "file converted", total=2_000, every=0)
        loud.update(500)
        loud.update(500)
    lines = caplog.text.strip().splitlines()
    assert len(lines) == 2
    assert "file converted: 1,000 rows of 2,000 (50%)" in lines[-1] and "rows/s" in lines[-1]
