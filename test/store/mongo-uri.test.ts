// The database a MongoDB URI names (its path), as the engine reads it.
import t from 'tap';
import { databaseName } from '../../src/store/mongo/index.ts';

t.test('database name from the URI path, migfhir by default', async (t) => {
  t.equal(databaseName('mongodb://h1:27017,h2:27018/fhirdb?replicaSet=rs0'), 'fhirdb');
  t.equal(databaseName('mongodb+srv://user:p%40ss@cluster.example.org/prod'), 'prod');
  t.equal(databaseName('mongodb://localhost:27017/?replicaSet=rs0'), 'migfhir');
  t.equal(databaseName('mongodb://localhost'), 'migfhir');
});
