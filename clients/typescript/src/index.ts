// index.ts - the package's entry point: the client, its errors, storages and the stream.
export * from './client';
export * from './errors';
export * from './storage';
export * from './stream';
export type { paths, components } from './generated/openapi';
