// Runs the pipeline's own Groovy functions -- input validation (subworkflows/local/
// utils_splamflow_pipeline/main.nf) and chunk ordering (workflows/splamflow.nf) -- outside Nextflow,
// on the committed samplesheets and on generated bad ones. Nextflow's `file()` and `error()` are
// stood in for by java.nio Paths and an exception; everything else is the code as committed.
// usage: groovy input_validation.groovy REPO_ROOT
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths

ExpandoMetaClass.enableGlobally()
Path.metaClass.getName = { -> delegate.fileName.toString() }
Path.metaClass.getSimpleName = { -> delegate.fileName.toString().replaceAll(/\..*$/, '') }
Path.metaClass.exists = { -> Files.exists(delegate) }

def root = Paths.get(args[0]).toAbsolutePath().normalize()
def stubs = '''
def file(Object path) { java.nio.file.Paths.get(path.toString()) }
def error(String message) { throw new IllegalStateException(message) }
'''
// the function definitions of a .nf file: everything below its "Functions" banner
def functionsOf = { String relative ->
    def text = root.resolve(relative).text
    def banner = text.indexOf('    Functions\n')
    assert banner > 0 : "${relative}: no Functions section"
    return text.substring(text.indexOf('*/', banner) + 2)
}
def shell = new GroovyShell()
def utils = shell.parse(stubs + functionsOf('subworkflows/local/utils_splamflow_pipeline/main.nf'))
def flow = shell.parse(stubs + functionsOf('workflows/splamflow.nf'))
def checks = 0
def check = { boolean ok, String what -> assert ok : what; checks++ }

def schemaInput = root.resolve('assets/schema_input.json')
def sheets = root.resolve('tests/workflow/samplesheets')
def read = { Path sheet -> utils.readSamplesheet(sheet, schemaInput) }
def data = root.resolve('tests/data')

// committed samplesheets
def valid = read(sheets.resolve('valid.csv'))
check(valid.problems == [], "valid.csv: ${valid.problems}")
check(valid.rows*.get(0) == [[id: 's1', type: 'alignments'], [id: 's2', type: 'alignments']], "valid.csv metas ${valid.rows}")
check(valid.rows.every { row -> row[1] == data.resolve('chr20_slice.bam') }, 'valid.csv: BAM resolved against the sheet folder')
check(valid.rows[1][2] == data.resolve('chr20_slice.bam.bai'), 'valid.csv: index found next to the BAM when the bai cell is empty')

def testSheet = read(root.resolve('assets/samplesheet_test.csv'))
check(testSheet.problems == [] && testSheet.rows.size() == 1 && testSheet.rows[0][0].id == 'chr20_rnaseq', "test samplesheet: ${testSheet}")

def expectProblem = { Map result, String text ->
    check(!result.problems.isEmpty(), "expected a problem")
    check(result.problems.any { message -> message.contains(text) }, "expected '${text}' in ${result.problems}")
}
expectProblem(read(sheets.resolve('duplicate_sample.csv')), "duplicate_sample.csv line 4: sample 's1' repeats line 2")
expectProblem(read(sheets.resolve('missing_bam_column.csv')), 'missing_bam_column.csv line 1: missing column(s) bam')
expectProblem(read(sheets.resolve('missing_bam_file.csv')), 'missing_bam_file.csv line 2: bam: file not found')

// generated bad samplesheets, next to the test data so relative paths resolve
def tmp = Files.createTempDirectory('splamflow_sheets')
def bam = data.resolve('chr20_slice.bam').toString()
def sheet = { String name, String text -> def path = tmp.resolve(name); path.text = text; read(path) }
expectProblem(sheet('empty.csv', ''), 'empty samplesheet')
expectProblem(sheet('header_only.csv', 'sample,bam\n'), 'no samples below the header line')
expectProblem(sheet('unknown.csv', "sample,bam,reads\ns1,${bam},x\n"), 'line 1: unknown column(s) reads')
expectProblem(sheet('fields.csv', "sample,bam\ns1,${bam},extra\n"), 'fields.csv line 2: 3 fields, the header has 2')
expectProblem(sheet('empty_cell.csv', "sample,bam\n,${bam}\n"), 'empty_cell.csv line 2: sample is empty')
expectProblem(sheet('bad_id.csv', "sample,bam\nmy sample,${bam}\n"), 'bad_id.csv line 2: sample: sample must start with a letter or digit')
expectProblem(sheet('not_bam.csv', "sample,bam\ns1,${data.resolve('chr20_slice.gtf')}\n"), 'not_bam.csv line 2: bam: bam must be a path ending in .bam')
expectProblem(sheet('bad_bai.csv', "sample,bam,bai\ns1,${bam},${data.resolve('chr20_slice.gtf')}\n"), 'bad_bai.csv line 2: bai: bai must be a path ending in .bai or .csi')
def blank = sheet('blank_lines.csv', "sample,bam\n\ns1,${bam}\n\n")
check(blank.problems == [] && blank.rows.size() == 1, "blank lines are skipped: ${blank}")
def several = sheet('several.csv', "sample,bam\ns1,${bam}\ns1,${bam}\ns2,/nope.bam\n")
check(several.problems.size() == 2, "every problem is reported at once: ${several.problems}")

// FASTA index
check(utils.fastaIndexProblems(data.resolve('chr20_slice.fa.gz').toString()) == [], 'indexed bgzip FASTA is fine')
def noIndex = utils.fastaIndexProblems(root.resolve('tests/workflow/data/no_index.fa').toString())
check(noIndex.size() == 1 && noIndex[0].contains('has no index no_index.fa.fai: create it with `samtools faidx'), "${noIndex}")
def gz = tmp.resolve('genome.fa.gz'); gz.text = 'x'; tmp.resolve('genome.fa.gz.fai').text = 'x'
def noGzi = utils.fastaIndexProblems(gz.toString())
check(noGzi.size() == 1 && noGzi[0].contains('no index genome.fa.gz.gzi') && noGzi[0].contains('needs both .fai and .gzi'), "${noGzi}")

// parameters against nextflow_schema.json
def schema = root.resolve('nextflow_schema.json')
def good = [fasta: data.resolve('chr20_slice.fa.gz').toString(), outdir: 'results', threshold: 0.1,
            score_chunk_size: 500000, precision: 'fp32', paired: false, infer_strand: 'none', publish_dir_mode: 'copy']
check(utils.validateParameters(good, schema) == [], "defaults validate: ${utils.validateParameters(good, schema)}")
def bad = { Map change, String text ->
    def problems = utils.validateParameters(good + change, schema)
    check(problems.any { message -> message.contains(text) }, "expected '${text}' in ${problems}")
}
bad([fasta: null], '--fasta is required')
bad([outdir: null], '--outdir is required')
bad([threshold: 2], '--threshold must be at most 1')
bad([threshold: 'high'], '--threshold must be a number')
bad([score_chunk_size: 0], '--score_chunk_size must be at least 1')
bad([score_chunk_size: 1.5], '--score_chunk_size must be a whole number')
bad([precision: 'fp64'], '--precision must be one of fp32, bf16, fp16')
bad([paired: 'yes'], '--paired must be true or false')
bad([fasta: '/nope/genome.fa'], '--fasta: file not found')
bad([gtf: data.resolve('chr20_slice.bam').toString()], '--gtf')
bad([input: '/nope/sheet.csv'], '--input: file not found')

// annotation and model helpers
check(utils.annotationMeta('/x/genes.gff3.gz') == [id: 'genes', type: 'annotation'], 'annotation id from the file name')
def weights = tmp.resolve('m.safetensors'); weights.text = 'w'
check(utils.modelFiles(weights.toString()) == [weights], 'model without metadata')
tmp.resolve('m.json').text = '{}'
check(utils.modelFiles(weights.toString()) == [weights, tmp.resolve('m.json')], 'model with its JSON metadata')

// scatter/gather ordering of workflows/splamflow.nf
check(flow.chunkIndex(Paths.get('/w/s1.chunk_000042.bed')) == 42, 'chunk index from the file name')
check(flow.sampleMeta([id: 's1', type: 'alignments', chunk: 3, chunks: 5]) == [id: 's1', type: 'alignments'], 'sample meta')
check(flow.chunksInOrder([id: 's1'], [[2, 'c'], [0, 'a'], [1, 'b']]) == ['a', 'b', 'c'], 'chunks sorted by index')
for (broken in [[[0, 'a'], [2, 'c']], [[1, 'b']], [[0, 'a'], [0, 'a']]]) {
    try {
        flow.chunksInOrder([id: 's1'], broken)
        check(false, "chunks ${broken} accepted")
    } catch (IllegalStateException e) {
        check(e.message.contains('are not exactly 0..'), e.message)
    }
}
try {
    flow.chunkIndex(Paths.get('/w/s1.part1.bed'))
    check(false, 'odd chunk name accepted')
} catch (IllegalStateException e) {
    check(e.message.contains('unexpected chunk file name'), e.message)
}

tmp.toFile().deleteDir()
println "input_validation: ${checks} checks passed"
