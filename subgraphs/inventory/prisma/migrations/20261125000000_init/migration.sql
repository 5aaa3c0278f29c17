-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "inventory_items" (
    "product_id" INTEGER NOT NULL,
    "stock" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inventory_items_pkey" PRIMARY KEY ("product_id")
);

-- CreateTable
CREATE TABLE "waitlist_entries" (
    "id" SERIAL NOT NULL,
    "product_id" INTEGER NOT NULL,
    "email" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "waitlist_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "waitlist_entries_product_id_created_at_id_idx" ON "waitlist_entries"("product_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "waitlist_entries_product_id_email_key" ON "waitlist_entries"("product_id", "email");

-- Hand-written: stock can never go negative, whoever writes (restock's own cap is in its WHERE).
ALTER TABLE "inventory_items" ADD CONSTRAINT "inventory_items_stock_check" CHECK ("stock" >= 0);
