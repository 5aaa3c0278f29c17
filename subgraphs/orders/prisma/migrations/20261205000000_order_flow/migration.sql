-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "order_status" ADD VALUE 'CONFIRMED';
ALTER TYPE "order_status" ADD VALUE 'REJECTED';

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "idempotency_key" TEXT,
ADD COLUMN     "rejection_reason" TEXT,
ADD COLUMN     "request_fingerprint" TEXT,
ADD COLUMN     "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable
CREATE TABLE "catalog_products" (
    "product_id" INTEGER NOT NULL,
    "price_cents" INTEGER NOT NULL,
    "revision" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "catalog_products_pkey" PRIMARY KEY ("product_id")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "source" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "aggregate" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expanded_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_deliveries" (
    "event_id" UUID NOT NULL,
    "destination" TEXT NOT NULL,
    "event_seq" BIGINT NOT NULL,
    "aggregate" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "last_error" TEXT,

    CONSTRAINT "outbox_deliveries_pkey" PRIMARY KEY ("event_id","destination")
);

-- CreateTable
CREATE TABLE "inbox_events" (
    "event_id" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "handled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_events_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "parked_events" (
    "event_id" TEXT NOT NULL,
    "source" TEXT,
    "type" TEXT,
    "version" INTEGER,
    "envelope" JSONB NOT NULL,
    "reason" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "parked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "replayed_at" TIMESTAMPTZ(3),

    CONSTRAINT "parked_events_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "outbox_events_seq_key" ON "outbox_events"("seq");

-- CreateIndex
CREATE INDEX "outbox_events_expanded_at_seq_idx" ON "outbox_events"("expanded_at", "seq");

-- CreateIndex
CREATE INDEX "outbox_deliveries_destination_aggregate_event_seq_idx" ON "outbox_deliveries"("destination", "aggregate", "event_seq");

-- CreateIndex
CREATE INDEX "outbox_deliveries_delivered_at_next_attempt_at_idx" ON "outbox_deliveries"("delivered_at", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "orders_user_id_idempotency_key_key" ON "orders"("user_id", "idempotency_key");

-- AddForeignKey
ALTER TABLE "outbox_deliveries" ADD CONSTRAINT "outbox_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "outbox_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;



-- Hand-written: orders that exist before this migration were last changed when they were placed.
UPDATE "orders" SET "updated_at" = "created_at";

-- Hand-written: Prisma cannot express CHECK constraints. A REJECTED order always says why and no
-- other order carries a reason; a key always comes with the fingerprint of its request. (status is
-- compared as text: an enum value added in this transaction cannot be used as an enum literal yet.)
ALTER TABLE "orders" ADD CONSTRAINT "orders_rejection_reason_check" CHECK (("status"::text = 'REJECTED') = ("rejection_reason" IS NOT NULL));
ALTER TABLE "orders" ADD CONSTRAINT "orders_idempotency_key_check" CHECK (
  ("idempotency_key" IS NULL AND "request_fingerprint" IS NULL)
  OR (char_length("idempotency_key") BETWEEN 1 AND 100 AND "request_fingerprint" IS NOT NULL)
);
ALTER TABLE "catalog_products" ADD CONSTRAINT "catalog_products_price_cents_check" CHECK ("price_cents" >= 0);
ALTER TABLE "catalog_products" ADD CONSTRAINT "catalog_products_revision_check" CHECK ("revision" > 0);
