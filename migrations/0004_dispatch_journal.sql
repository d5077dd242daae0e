-- Accepted asynchronous work (non-blocking invokes, trigger fires and the
-- activations of their rules) whose queue may not keep it: `npm start`'s
-- local Queues hold messages in memory only. A row is written before its
-- message is queued and counts as done once an activation record with its id
-- exists; a sweep re-queues rows a dead server left behind, or records them
-- as failed (src/invoker/journal.ts). boot names the server run that queued
-- the message last; message is the DispatchMessage's JSON.
CREATE TABLE dispatch_journal (
  activation_id TEXT PRIMARY KEY,
  namespace TEXT NOT NULL,
  message TEXT NOT NULL,
  boot TEXT NOT NULL,
  dispatched_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL
);
CREATE INDEX dispatch_journal_by_time ON dispatch_journal (dispatched_at);
