/**
 * fastify's own schema compilers (Ajv for requests, fast-json-stringify for answers, which
 * writes only the fields a response schema declares, so undeclared fields never leave the hub),
 * used more sparingly at start:
 * - each response schema object is compiled once, not once per route and status: every error
 *   status of every route answers with the one ErrorBody, and each compilation of a schema with
 *   anyOf builds its own Ajv (hundreds of them, most of the hub's start time and memory);
 * - a route's validators and serializers are compiled at its first request, not at start: a hub
 *   serves a few of its ~200 routes in a session, and a restart is what a user waits for.
 * What they accept, refuse and write is fastify's default, unchanged.
 */
import { AjvCompiler } from "@fastify/ajv-compiler";
import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";
import type { FastifyServerOptions } from "fastify";

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions["schemaController"]>["compilersFactory"]
>;
type Serialize = (data: unknown) => string;

/** A validator as fastify calls it: the result, then `errors` when it is false. */
interface Validate {
  (data: unknown): unknown;
  errors?: unknown;
}

/** Runs `compile` at the first call of the function it returns, then calls what it made. */
function lazily<F extends (...args: never[]) => unknown>(compile: () => F): () => F {
  let made: F | undefined;
  return () => (made ??= compile());
}

/** fastify's default serializers: one per schema object, each compiled when first used. */
export function sharedSerializerFactory(): NonNullable<CompilersFactory["buildSerializer"]> {
  const build = SerializerSelector();
  return (externalSchemas, options) => {
    // Per factory call: a serializer depends on the shared schemas and options it was built with.
    const compile = build(externalSchemas, options);
    const made = new WeakMap<object, Serialize>();
    return (route) => {
      const schema = route.schema;
      if (typeof schema !== "object" || schema === null) return compile(route);
      let serialize = made.get(schema);
      if (serialize === undefined) {
        const serializer = lazily(() => compile(route) as Serialize);
        serialize = (data) => serializer()(data);
        made.set(schema, serialize);
      }
      return serialize;
    };
  };
}

/** fastify's default validators (one Ajv), each compiled at its route's first request. */
export function lazyValidatorFactory(): NonNullable<CompilersFactory["buildValidator"]> {
  const build = AjvCompiler();
  const factory = (externalSchemas: Parameters<typeof build>[0], options: Parameters<typeof build>[1]) => {
    const compile = build(externalSchemas, options) as unknown as (route: unknown) => Validate;
    return (route: unknown): Validate => {
      const validator = lazily(() => compile(route));
      const validate: Validate = (data) => {
        const real = validator();
        const result = real(data);
        validate.errors = real.errors;
        return result;
      };
      return validate;
    };
  };
  return factory as unknown as NonNullable<CompilersFactory["buildValidator"]>;
}
