package store

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm/logger"
)

// slowStatement is the duration above which a statement is logged.
const slowStatement = 500 * time.Millisecond

// gormLogger logs slow statements without their SQL, because GORM's own
// loggers can print the SQL with its arguments, which include extIds and
// property values. It does not log failed statements: the store returns
// their errors, and its callers log them once.
type gormLogger struct {
	log *slog.Logger
}

var _ logger.Interface = gormLogger{}

func (l gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (l gormLogger) Info(context.Context, string, ...any)  {}
func (l gormLogger) Warn(context.Context, string, ...any)  {}
func (l gormLogger) Error(context.Context, string, ...any) {}

func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	if elapsed < slowStatement {
		return
	}
	_, rows := fc()
	l.log.WarnContext(ctx, "slow database statement",
		"duration", elapsed.Round(time.Millisecond), "rows", rows, "failed", err != nil)
}
