"""Core types shared by every stage: the event-log columns and log metadata (`columns`), the
error classes (`errors`), the finding kinds (`kinds`) and the reader of small table files
(`textfile`). Nothing here imports another part of sopaudit."""
