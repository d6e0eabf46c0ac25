// strings.ts - the texts of <herald-inbox>, in English and French; an application passes its
// own (any subset) through the `strings` property, or picks a built-in set with `lang`.
export interface InboxStrings {
  bell: string; // aria-label of the bell; {count} = unread
  bellNone: string;
  title: string;
  markAllRead: string;
  clear: string;
  clearConfirm: string;
  settings: string;
  back: string;
  markRead: string;
  markUnread: string;
  delete: string;
  empty: string;
  loading: string;
  loadError: string;
  retry: string;
  offline: string;
  sessionExpired: string;
  newNotification: string; // live announcement; {title}
  preferencesTitle: string;
  preferencesHint: string;
  noCategories: string;
  close: string;
}

export const STRINGS: Record<string, InboxStrings> = {
  en: {
    bell: 'Notifications, {count} unread',
    bellNone: 'Notifications, none unread',
    title: 'Notifications',
    markAllRead: 'Mark all read',
    clear: 'Clear all',
    clearConfirm: 'Delete every notification?',
    settings: 'Preferences',
    back: 'Back to notifications',
    markRead: 'Mark read',
    markUnread: 'Mark unread',
    delete: 'Delete',
    empty: 'You are all caught up.',
    loading: 'Loading…',
    loadError: 'Could not load notifications.',
    retry: 'Retry',
    offline: 'Reconnecting…',
    sessionExpired: 'Your session has ended. Sign in again.',
    newNotification: 'New notification: {title}',
    preferencesTitle: 'Show in the inbox',
    preferencesHint: 'Categories you turn off are no longer shown here.',
    noCategories: 'No categories yet.',
    close: 'Close',
  },
  fr: {
    bell: 'Notifications, {count} non lues',
    bellNone: 'Notifications, aucune non lue',
    title: 'Notifications',
    markAllRead: 'Tout marquer comme lu',
    clear: 'Tout effacer',
    clearConfirm: 'Supprimer toutes les notifications ?',
    settings: 'Préférences',
    back: 'Retour aux notifications',
    markRead: 'Marquer comme lu',
    markUnread: 'Marquer comme non lu',
    delete: 'Supprimer',
    empty: 'Rien de nouveau.',
    loading: 'Chargement…',
    loadError: 'Impossible de charger les notifications.',
    retry: 'Réessayer',
    offline: 'Reconnexion…',
    sessionExpired: 'Votre session est terminée. Reconnectez-vous.',
    newNotification: 'Nouvelle notification : {title}',
    preferencesTitle: 'Afficher dans la boîte',
    preferencesHint: 'Les catégories désactivées ne s’affichent plus ici.',
    noCategories: 'Aucune catégorie pour l’instant.',
    close: 'Fermer',
  },
};

/** text with {name} replaced by vars[name]. */
export function fmt(text: string, vars: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}
