-- 021-alarm-retention.sql -- what the alarm intake tells users, and
-- what its reaper needs (see sql/pg/021-alarm-retention.sql).

ALTER TABLE alarm_limits ADD COLUMN told_window INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alarm_limits ADD COLUMN told_message TEXT;
CREATE INDEX alarm_holds_alarm ON alarm_holds (alarm_id);
CREATE INDEX alarm_holds_updated ON alarm_holds (updated_at);
CREATE INDEX alarm_limits_window ON alarm_limits (window_start);
