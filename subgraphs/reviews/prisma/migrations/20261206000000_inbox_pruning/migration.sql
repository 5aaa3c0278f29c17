-- CreateIndex
CREATE INDEX "inbox_events_handled_at_idx" ON "inbox_events"("handled_at");

