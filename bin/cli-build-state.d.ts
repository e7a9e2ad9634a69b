// Types of bin/cli-build-state.js (plain JavaScript: bin/regman.js loads it before any TypeScript loader).
export declare function cliBuildState(built: URL, inputs: URL, root: URL): 'fresh' | 'stale' | 'absent';
export declare const STALE_BUILD_HINT: string;
