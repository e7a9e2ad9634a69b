// The client's version, sent in User-Agent (kept here rather than read from package.json, which a Lambda bundle lacks).
export const CLIENT_VERSION = '0.1.0';
export const DEFAULT_USER_AGENT = `registry-manager/${CLIENT_VERSION}`;
