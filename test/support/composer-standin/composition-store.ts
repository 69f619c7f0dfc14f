/** One composition the stand-in's storage holds, with what the upload looked like. */
export interface StoredComposition {
  uid: string;
  connectorUid: string;
  projectKey: string;
  apiEnv: string;
  fileName: string;
  mimeType: string;
  /** The file part's bytes as text (the composition JSON). */
  content: string;
  createdAt: string;
}

/** In-memory storage of uploaded compositions, in upload order. */
export class CompositionStore {
  private readonly byUid = new Map<string, StoredComposition>();

  /** Stores a composition under its uid. */
  put(composition: StoredComposition): void {
    this.byUid.set(composition.uid, composition);
  }

  /** The composition with `uid`, or undefined. */
  get(uid: string): StoredComposition | undefined {
    return this.byUid.get(uid);
  }

  /** Every stored composition, oldest first. */
  list(): StoredComposition[] {
    return [...this.byUid.values()];
  }

  /** Forgets every composition. */
  clear(): void {
    this.byUid.clear();
  }
}
