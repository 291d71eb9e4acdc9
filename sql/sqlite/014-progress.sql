-- 014-progress.sql -- progress events say what kind they are and what
-- their task runs.
--
-- kind: 'task' (the engine's record of a task's start, attempts and
-- end), 'execution' (of the execution itself) or 'progress' (a message
-- a workflow declares or a Lua action or expression emits).  action:
-- the action or sub-workflow of the event's task.

ALTER TABLE events ADD COLUMN kind TEXT;
ALTER TABLE events ADD COLUMN action TEXT;
