// inbox-entry.ts - the one ES module a page loads: the client and <herald-inbox> (registered).
export * from './index';
export { HeraldInbox } from './inbox';
export type { InboxStrings } from './strings';
