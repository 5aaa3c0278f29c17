-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "category" AS ENUM ('BOOKS', 'ELECTRONICS', 'HOME', 'OUTDOOR', 'TOYS');

-- CreateTable
CREATE TABLE "products" (
    "id" SERIAL NOT NULL,
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "price_cents" INTEGER NOT NULL,
    "weight_grams" INTEGER NOT NULL,
    "category" "category" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "products_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "products_sku_key" ON "products"("sku");

-- CreateIndex
CREATE INDEX "products_category_id_idx" ON "products"("category", "id");

-- Hand-written: the database enforces the same bounds as createProduct/updateProductPrice, so no
-- other writer (a script, a future migration) can store a free or weightless product.
ALTER TABLE "products" ADD CONSTRAINT "products_price_cents_check" CHECK ("price_cents" BETWEEN 1 AND 100000000);
ALTER TABLE "products" ADD CONSTRAINT "products_weight_grams_check" CHECK ("weight_grams" BETWEEN 1 AND 1000000);
