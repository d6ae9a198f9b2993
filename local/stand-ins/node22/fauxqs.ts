/**
 * fauxqs, from the project of this folder: it needs Node 22.5, so it is installed by an npm running
 * on Node 22 (scripts/install-stand-ins.ts), apart from the root's packages. Only modules in this
 * folder resolve its node_modules, so the rest of local/ keeps the root's AWS SDK.
 */
export { buildApp } from 'fauxqs';
