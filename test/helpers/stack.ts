export { synthesizeStack as synthStack, unbundledApp as testApp } from '../../lib/synthesize';
