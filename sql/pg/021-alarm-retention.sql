-- 021-alarm-retention.sql -- what the alarm intake tells users, and
-- what its reaper needs (PostgreSQL; sql/sqlite/021-alarm-retention.sql
-- says the same).
--
-- alarm_limits.told_window: the window_start of the window whose storm
-- a user message (BORA-ALM-002) was made for, told_message its id: one
-- message per trigger, limit.by value and window, however many alarms
-- the limit turns away, and on several engines too (the row lock of
-- the counter orders them).  alarm_holds.alarm_id is indexed for the
-- reaper of old alarms (alarm-retention), which keeps every alarm
-- whose hold is still in force.

ALTER TABLE alarm_limits ADD COLUMN told_window bigint NOT NULL DEFAULT 0;
ALTER TABLE alarm_limits ADD COLUMN told_message text;
CREATE INDEX alarm_holds_alarm ON alarm_holds (alarm_id);
CREATE INDEX alarm_holds_updated ON alarm_holds (updated_at);
CREATE INDEX alarm_limits_window ON alarm_limits (window_start);
