import { subgraphCodegen } from '@commerce/service-kit/codegen';

// User is owned by accounts: here it is only its id.
export default subgraphCodegen({
  Order: './prisma/client.ts#Order as OrderModel',
  OrderItem: './prisma/client.ts#OrderItem as OrderItemModel',
  User: '../models.ts#UserRef',
});
