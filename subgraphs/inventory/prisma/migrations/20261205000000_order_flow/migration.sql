-- CreateEnum
CREATE TYPE "decision_outcome" AS ENUM ('RESERVED', 'REJECTED', 'RELEASED');

-- CreateEnum
CREATE TYPE "stock_movement_reason" AS ENUM ('SEED', 'RESTOCK', 'RESERVE', 'RELEASE');

-- CreateTable
CREATE TABLE "catalog_products" (
    "product_id" INTEGER NOT NULL,
    "revision" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "catalog_products_pkey" PRIMARY KEY ("product_id")
);

-- CreateTable
CREATE TABLE "order_decisions" (
    "order_id" INTEGER NOT NULL,
    "outcome" "decision_outcome" NOT NULL,
    "reason" TEXT,
    "decided_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_decisions_pkey" PRIMARY KEY ("order_id")
);

-- CreateTable
CREATE TABLE "reservations" (
    "order_id" INTEGER NOT NULL,
    "product_id" INTEGER NOT NULL,
    "quantity" INTEGER NOT NULL,
    "reserved_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "released_at" TIMESTAMPTZ(3),

    CONSTRAINT "reservations_pkey" PRIMARY KEY ("order_id","product_id")
);

-- CreateTable
CREATE TABLE "stock_movements" (
    "id" SERIAL NOT NULL,
    "product_id" INTEGER NOT NULL,
    "delta" INTEGER NOT NULL,
    "reason" "stock_movement_reason" NOT NULL,
    "order_id" INTEGER,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stock_movements_pkey" PRIMARY KEY ("id")
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
CREATE INDEX "stock_movements_product_id_idx" ON "stock_movements"("product_id");

-- CreateIndex
CREATE INDEX "stock_movements_order_id_idx" ON "stock_movements"("order_id");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_events_seq_key" ON "outbox_events"("seq");

-- CreateIndex
CREATE INDEX "outbox_events_expanded_at_seq_idx" ON "outbox_events"("expanded_at", "seq");

-- CreateIndex
CREATE INDEX "outbox_deliveries_destination_aggregate_event_seq_idx" ON "outbox_deliveries"("destination", "aggregate", "event_seq");

-- CreateIndex
CREATE INDEX "outbox_deliveries_delivered_at_next_attempt_at_idx" ON "outbox_deliveries"("delivered_at", "next_attempt_at");

-- AddForeignKey
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "order_decisions"("order_id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stock_movements" ADD CONSTRAINT "stock_movements_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "inventory_items"("product_id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbox_deliveries" ADD CONSTRAINT "outbox_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "outbox_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;



-- Hand-written: Prisma cannot express CHECK constraints. What every code path must respect:
-- a reservation holds at least one unit; a movement moves something, in the direction its reason
-- says, and names an order exactly when it is a reservation or a release; a REJECTED decision
-- says why and no other does; a replica revision counts from 1.
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_quantity_check" CHECK ("quantity" > 0);
ALTER TABLE "stock_movements" ADD CONSTRAINT "stock_movements_delta_check" CHECK (CASE WHEN "reason" = 'RESERVE' THEN "delta" < 0 ELSE "delta" > 0 END);
ALTER TABLE "stock_movements" ADD CONSTRAINT "stock_movements_order_id_check" CHECK (("reason" IN ('RESERVE', 'RELEASE')) = ("order_id" IS NOT NULL));
ALTER TABLE "order_decisions" ADD CONSTRAINT "order_decisions_reason_check" CHECK (("outcome" = 'REJECTED') = ("reason" IS NOT NULL));
ALTER TABLE "catalog_products" ADD CONSTRAINT "catalog_products_revision_check" CHECK ("revision" > 0);

-- Hand-written: the ledger starts from the stock already on the shelf (none on a fresh database,
-- which is seeded afterwards), so stock == sum(delta) holds from this migration on.
INSERT INTO "stock_movements" ("product_id", "delta", "reason") SELECT "product_id", "stock", 'SEED' FROM "inventory_items" WHERE "stock" > 0;
