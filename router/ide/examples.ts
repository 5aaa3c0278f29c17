/**
 * The IDE's example tabs for a given supergraph, decided when the IDE is built: the fixed ones
 * (tabs.ts), plus placing (and cancelling) an order once the supergraph has `placeOrder`, with
 * the result's selection read from the schema. A tab that would not validate against the
 * supergraph is left out with a note, never a failed build.
 */
import { buildASTSchema, getNamedType, getVariableValues, isLeafType, isNonNullType, isObjectType, parse, validate, type GraphQLField, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { exampleTabs, ORDER_FIELDS, placeOrderTab, type ExampleTab, type Selection } from './src/tabs.ts';

export interface Examples {
  tabs: ExampleTab[];
  /** What was left out and why, for the build's output. */
  notes: string[];
}

export function examplesFor(supergraphSdl: string): Examples {
  const schema = buildASTSchema(parse(supergraphSdl), { assumeValidSDL: true });
  const notes: string[] = [];
  const mutations = schema.getMutationType()?.getFields() ?? {};
  const placeOrder = mutations.placeOrder;
  if (!placeOrder) return { tabs: exampleTabs(), notes: ['the supergraph has no placeOrder yet: no place-order tab'] };
  const input = placeOrder.args.find((arg) => arg.name === 'input');
  // The order's fields, and why it was rejected where the graph says.
  const orderType = schema.getType('Order');
  const order: Selection = isObjectType(orderType) && orderType.getFields().reason ? [...ORDER_FIELDS.slice(0, 3), 'reason', ...ORDER_FIELDS.slice(3)] : ORDER_FIELDS;
  const place = selectionOf(placeOrder, order);
  const cancelOrder = mutations.cancelOrder;
  const cancel = cancelOrder && cancelOrder.args.some((arg) => arg.name === 'id') ? selectionOf(cancelOrder, order) : null;
  if (!input || !place) return { tabs: exampleTabs(), notes: ['placeOrder has no `input` argument or returns no object: no place-order tab'] };
  const tab = placeOrderTab({ inputType: String(input.type), place, cancel });
  const problems = problemsOf(schema, tab);
  if (problems.length > 0) {
    notes.push(`the place-order example does not fit the supergraph, left out: ${problems.join('; ')}`);
    return { tabs: exampleTabs(), notes };
  }
  return { tabs: exampleTabs(tab), notes };
}

/** What an example asks of a mutation's result: the order's fields where it is (or holds) an Order, else its leaf fields. */
function selectionOf(field: GraphQLField<unknown, unknown>, order: Selection): Selection | null {
  const type = getNamedType(field.type);
  if (type.name === 'Order') return order;
  if (!isObjectType(type)) return null;
  const selection: Selection[number][] = [];
  for (const inner of Object.values(type.getFields())) {
    if (inner.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined)) continue;
    const innerType = getNamedType(inner.type);
    if (innerType.name === 'Order') selection.push({ [inner.name]: order });
    else if (isLeafType(innerType)) selection.push(inner.name);
  }
  return selection.length > 0 ? selection : ['__typename'];
}

/** Validation errors of a tab's document, and of its variables for each operation. */
export function problemsOf(schema: GraphQLSchema, tab: ExampleTab): string[] {
  const document = parse(tab.query);
  const errors = validate(schema, document).map((error) => error.message);
  if (errors.length > 0) return errors;
  const variables = tab.variables ? (JSON.parse(tab.variables) as Record<string, unknown>) : {};
  for (const operation of document.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')) {
    // An id the user fills in (e.g. the order to cancel) may be empty in the example.
    if (operation.variableDefinitions?.some((v) => variables[v.variable.name.value] === '')) continue;
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) errors.push(...coerced.errors.map((error) => `${operation.name?.value ?? 'operation'}: ${error.message}`));
  }
  return errors;
}
